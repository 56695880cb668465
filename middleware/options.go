package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/m2mauth/m2mauth/verifier"
)

// An Option configures an Authenticator. Options are validated by New.
type Option func(*config) error

// A Check is a custom policy run on every verified token, after the built-in
// audience and subject checks. Returning nil accepts the token. An error made
// by Forbidden (or any *ForbiddenError) is answered with 403 and its reason;
// an error matching verifier.ErrUnavailable, verifier.ErrMisconfigured or
// verifier.ErrInvalidToken keeps that meaning (503, 500, 401); any other error
// is answered with 403 "refused by policy", its text kept out of the response.
type Check func(ctx context.Context, t *verifier.Token) error

// An ErrorHandler writes the response for a refused request; err is one of
// the errors documented on Authenticator.Authenticate. Authenticator.Response
// gives the default status, headers and body for err.
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

type config struct {
	extract    Extractor
	accept     kinds    // WithAccept; default: M2M tokens only
	scopes     []string // WithRequiredScopes: all needed by API keys and OAuth tokens
	audience   string   // "" : none
	anyAud     bool     // WithAnyAudience
	subjects   map[string]struct{}
	checks     []Check
	optional   bool
	skip       func(*http.Request) bool
	onError    ErrorHandler
	realm      string
	retryAfter time.Duration
	source     SourceFunc
	logger     *slog.Logger // nil: no refusal is logged
	onSuccess  SuccessFunc  // nil: no hook
}

func defaultConfig() config {
	return config{
		extract:    BearerToken,
		accept:     kinds(0).with(verifier.KindM2M),
		realm:      "api",
		retryAfter: 2 * time.Second,
		source:     RemoteIP,
	}
}

// WithExtractor replaces how the token is found in a request (see Extractor).
//
// Default: BearerToken (a single "Authorization: Bearer <token>" header).
func WithExtractor(e Extractor) Option {
	return func(c *config) error {
		if e == nil {
			return errors.New("middleware: WithExtractor(nil)")
		}
		c.extract = e
		return nil
	}
}

// WithAllowedSubjects accepts only tokens whose subject (the calling machine,
// mch_…) is one of ids; others are refused with 403. Repeated uses add to the
// list.
//
// Default: any subject.
func WithAllowedSubjects(ids ...string) Option {
	return func(c *config) error {
		if len(ids) == 0 {
			return errors.New("middleware: WithAllowedSubjects needs at least one machine ID")
		}
		if c.subjects == nil {
			c.subjects = make(map[string]struct{}, len(ids))
		}
		for _, id := range ids {
			if id == "" {
				return errors.New("middleware: WithAllowedSubjects: empty machine ID")
			}
			c.subjects[id] = struct{}{}
		}
		return nil
	}
}

// WithCheck adds a custom policy (see Check). Checks run in the order given.
//
// Default: none.
func WithCheck(check Check) Option {
	return func(c *config) error {
		if check == nil {
			return errors.New("middleware: WithCheck(nil)")
		}
		c.checks = append(c.checks, check)
		return nil
	}
}

// WithOptional lets requests without any bearer token through, with no token
// in their context; handlers must then check TokenFromContext themselves. A
// token that is present but malformed, invalid or refused by policy is still
// refused (503 while Clerk cannot verify it).
//
// Default: a token is required.
func WithOptional() Option {
	return func(c *config) error {
		c.optional = true
		return nil
	}
}

// WithSkipper exempts the requests for which skip returns true (public paths
// such as health checks): they pass without a token and without a call to
// the verifier.
//
// Default: no request is skipped.
func WithSkipper(skip func(*http.Request) bool) Option {
	return func(c *config) error {
		if skip == nil {
			return errors.New("middleware: WithSkipper(nil)")
		}
		c.skip = skip
		return nil
	}
}

// WithErrorHandler replaces how refusals are written. The adapters call it
// with the framework's response writer and then stop the chain.
//
// Default: Authenticator.Response written natively by each adapter (in Echo as
// an *echo.HTTPError, so the app's HTTPErrorHandler applies).
func WithErrorHandler(h ErrorHandler) Option {
	return func(c *config) error {
		if h == nil {
			return errors.New("middleware: WithErrorHandler(nil)")
		}
		c.onError = h
		return nil
	}
}

// WithRealm sets the realm of the WWW-Authenticate challenge. It must be
// printable ASCII without '"' or '\'.
//
// Default: "api".
func WithRealm(realm string) Option {
	return func(c *config) error {
		if realm == "" || len(realm) > 128 || !isQuotedSafe(realm) {
			return errors.New("middleware: WithRealm: realm must be 1–128 printable ASCII characters without '\"' or '\\'")
		}
		c.realm = realm
		return nil
	}
}

// WithRetryAfter sets the Retry-After of a 503 when Clerk gave none. It is
// rounded up to whole seconds.
//
// Default: 2s.
func WithRetryAfter(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 || d > time.Hour {
			return errors.New("middleware: WithRetryAfter must be in (0, 1h]")
		}
		c.retryAfter = d
		return nil
	}
}
