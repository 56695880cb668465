package middleware

import (
	"context"
	"errors"
	"net/http"

	"github.com/m2mauth/m2mauth/verifier"
)

// A Verifier checks a token's value; source names the request's client
// (see WithSourceFunc), for the verifier's per-source budget of calls to
// Clerk. *verifier.Verifier is the production implementation; it must be safe
// for concurrent use.
type Verifier interface {
	Verify(ctx context.Context, token, source string) (*verifier.Token, error)
}

// VerifierFunc adapts a function to the Verifier interface: a fake verifier
// for the tests of a service's handlers.
type VerifierFunc func(ctx context.Context, token, source string) (*verifier.Token, error)

// Verify calls f(ctx, token, source).
func (f VerifierFunc) Verify(ctx context.Context, token, source string) (*verifier.Token, error) {
	return f(ctx, token, source)
}

// An Authenticator decides whether a request may pass. It is immutable and
// safe for concurrent use. Build one with New and hand it to an adapter.
type Authenticator struct {
	v   Verifier
	cfg config

	missingScope *ForbiddenError // WithRequiredScopes' refusal, naming them

	// Precomputed at New: the challenge and its error-carrying prefixes.
	challenge       string // Bearer realm="…"
	invalidPrefix   string // Bearer realm="…", error="invalid_token", error_description="
	forbiddenPrefix string // Bearer realm="…", error="insufficient_scope", error_description="
	retryAfter      string // default Retry-After in seconds
}

var errNilToken = errors.New("middleware: verifier returned neither a token nor an error")

// New returns an Authenticator that verifies tokens with v.
//
// It fails closed on the audience: unless v reports that Clerk enforces it (a
// *verifier.Verifier with a machine secret key, ak_…, whose EnforcesAudience
// method says so; a wrapper may forward that method), New returns
// ErrNoAudience when neither WithAudience(machineID) nor WithAnyAudience is
// given, since such a Verifier accepts a token of any machine of the Clerk
// instance. A non-empty WithAudience together with WithAnyAudience is an
// error too.
func New(v Verifier, opts ...Option) (*Authenticator, error) {
	if v == nil {
		return nil, errors.New("middleware: New: nil Verifier")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("middleware: New: nil Option")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.checkKinds(v); err != nil {
		return nil, err
	}
	if cfg.accept.has(verifier.KindM2M) {
		if err := cfg.checkAudience(v); err != nil {
			return nil, err
		}
	}
	a := &Authenticator{v: v, cfg: cfg}
	if len(cfg.scopes) > 0 {
		a.missingScope = &ForbiddenError{Reason: "token lacks a scope this service requires", Scope: scopeList(cfg.scopes)}
	}
	a.challenge = `Bearer realm="` + cfg.realm + `"`
	a.invalidPrefix = a.challenge + `, error="invalid_token", error_description="`
	a.forbiddenPrefix = a.challenge + `, error="insufficient_scope", error_description="`
	a.retryAfter = seconds(cfg.retryAfter)
	return a, nil
}

// Authenticate extracts, verifies and checks the request's token.
//
// It returns the verified token, or (nil, nil) when the request may pass
// without one (a WithSkipper match, or no token with WithOptional), or an error:
//
//   - ErrMissingToken (*MissingTokenError): no usable bearer token;
//   - verifier.ErrInvalidToken: invalid, expired, revoked or unknown token;
//   - ErrForbidden (*ForbiddenError): refused by the audience, subject or a check;
//   - verifier.ErrUnavailable: Clerk could not answer (see verifier.RetryAfter);
//   - verifier.ErrMisconfigured: Clerk refused the verifier's own key;
//   - verifier.ErrRateLimited: the request's source (WithSourceFunc) spent
//     its budget of calls to Clerk; answered 429 with Retry-After;
//   - ErrClientGone: the request's context ended while waiting; this says
//     nothing about the token or Clerk;
//   - anything else the Verifier returns, answered as 500.
//
// Authenticate does not store the token anywhere; the adapters do, with
// NewContext. On success with a cached token it does not allocate.
//
// Authenticate is the skipper and the extractor in front of the same path as
// AuthenticateBearer: the policy, the logging (WithLogger) and the success hook
// (WithOnSuccess) are the same for every door.
func (a *Authenticator) Authenticate(r *http.Request) (*verifier.Token, error) {
	if a.cfg.skip != nil && a.cfg.skip(r) {
		return nil, nil
	}
	raw, err := a.cfg.extract(r)
	if err != nil {
		var me *MissingTokenError
		if !errors.As(err, &me) {
			err = &MissingTokenError{Reason: errExtractorFail, Err: err}
		} else if me.absent && a.cfg.optional {
			return nil, nil
		}
		if a.logs(r.Context()) {
			a.logRefusal(r.Context(), err, nil, a.cfg.source(r))
		}
		return nil, err
	}
	return a.authenticate(r.Context(), raw, a.cfg.source(r), r)
}

// AuthenticateBearer is Authenticate for transports other than net/http: it
// takes the values of the request's authorization field (m2mgrpc hands it
// the gRPC metadata "authorization"), source names the caller for the
// Verifier's per-source budget (as RemoteIP does: the peer's IP), and ctx is
// the request's. It reads the token by BearerToken's rules: no value, or
// another scheme, is "no token" ((nil, nil) with WithOptional, else
// ErrMissingToken); more than one value, one over the size bound, an empty or
// malformed token are refused with ErrMissingToken, logged (WithLogger) as
// Authenticate logs a malformed Authorization header. Then it returns what
// Authenticate returns, with the same policy, errors, logging and success
// hook. The options that read an *http.Request (WithSkipper, WithExtractor,
// WithSourceFunc, WithErrorHandler) do not apply here; the caller does their
// work.
//
// On success with a cached token it does not allocate.
func (a *Authenticator) AuthenticateBearer(ctx context.Context, vals []string, source string) (*verifier.Token, error) {
	token, err := parseBearer(vals)
	if err != nil {
		return nil, a.refused(ctx, err, nil, source)
	}
	return a.authenticate(ctx, token, source, nil)
}

// authenticate is the one path of Authenticate and AuthenticateBearer; r is
// the HTTP request, nil from AuthenticateBearer.
func (a *Authenticator) authenticate(ctx context.Context, raw, source string, r *http.Request) (*verifier.Token, error) {
	if raw == "" {
		if a.cfg.optional {
			return nil, nil
		}
		return nil, a.refused(ctx, errNoToken, nil, source)
	}
	if k := opaqueKind(raw); k != "" && !a.cfg.accept.has(k) {
		return nil, a.refused(ctx, errKind, nil, source) // no call to Clerk
	}
	tok, err := a.v.Verify(ctx, raw, source)
	if err != nil {
		return nil, a.refused(ctx, a.classify(ctx, err), nil, source)
	}
	if tok == nil {
		return nil, a.refused(ctx, errNilToken, nil, source) // fail closed
	}
	if !a.cfg.accept.has(kindOf(tok)) {
		return nil, a.refused(ctx, errKind, tok, source) // a JWT: its kind was in its claims
	}
	if err := a.policy(ctx, tok); err != nil {
		return nil, a.refused(ctx, err, tok, source)
	}
	if a.cfg.onSuccess != nil {
		a.cfg.onSuccess(ctx, Success{Token: tok, Source: source, Request: r})
	}
	return tok, nil
}

// policy applies the audience (M2M tokens), the required scopes (API keys,
// OAuth tokens), the allowed subjects and the checks to a verified token of
// an accepted kind.
func (a *Authenticator) policy(ctx context.Context, tok *verifier.Token) error {
	if kindOf(tok) == verifier.KindM2M {
		if a.cfg.audience != "" && !tok.HasScope(a.cfg.audience) {
			return errNotAudience
		}
	} else if a.missingScope != nil && !tok.HasScopes(a.cfg.scopes...) {
		return a.missingScope
	}
	if a.cfg.subjects != nil {
		if _, ok := a.cfg.subjects[tok.Subject]; !ok {
			return errSubject
		}
	}
	for _, check := range a.cfg.checks {
		if err := check(ctx, tok); err != nil {
			return a.classifyCheck(ctx, err)
		}
	}
	return nil
}

// classify turns a Verifier error into the result of Authenticate: a verdict
// on the token stays as it is; any other failure after the request's context
// ended is the client's doing, not Clerk's.
func (a *Authenticator) classify(ctx context.Context, err error) error {
	if errors.Is(err, verifier.ErrInvalidToken) || errors.Is(err, verifier.ErrMisconfigured) ||
		errors.Is(err, verifier.ErrRateLimited) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return &clientGoneError{err: cerr}
	}
	return err
}

func (a *Authenticator) classifyCheck(ctx context.Context, err error) error {
	if errors.Is(err, ErrForbidden) || errors.Is(err, verifier.ErrInvalidToken) ||
		errors.Is(err, verifier.ErrMisconfigured) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return &clientGoneError{err: cerr}
	}
	if errors.Is(err, verifier.ErrUnavailable) {
		return err
	}
	return &ForbiddenError{Reason: reasonCheckError, Err: err}
}

// ErrorHandler returns the handler set by WithErrorHandler, or nil when the
// default response (Response) applies. Adapters use it to decide whether to
// write the refusal natively.
func (a *Authenticator) ErrorHandler() ErrorHandler { return a.cfg.onError }

// WriteError writes the refusal for err to w: with the WithErrorHandler
// handler if one was set, else the default Response.
func (a *Authenticator) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if a.cfg.onError != nil {
		a.cfg.onError(w, r, err)
		return
	}
	a.Response(err).Write(w)
}
