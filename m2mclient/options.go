package m2mclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// DefaultTimeout bounds one shared create call to Clerk (see [WithTimeout]).
const DefaultTimeout = 10 * time.Second

// MaxDefaultRefreshMargin caps the default refresh margin (see [WithRefreshMargin]).
const MaxDefaultRefreshMargin = 5 * time.Minute

// ReplaceCooldown is how long a token created to replace a refused one is kept
// even if it is refused too (see [TokenSource.Invalidate]).
const ReplaceCooldown = 30 * time.Second

// refreshRetryDelay is how long a TokenSource keeps serving a still-live token
// after a failed refresh-ahead before it asks Clerk again (longer when Clerk sent
// Retry-After).
const refreshRetryDelay = 5 * time.Second

// An Option configures a TokenSource.
type Option func(*config) error

type config struct {
	lifetime   time.Duration        // 0: the machine's default_token_ttl
	claims     json.RawMessage      // nil: none
	format     clerkapi.TokenFormat // "": Clerk's default (opaque)
	margin     time.Duration        // -1: default (20 % of life, ≤ 5 min)
	minTTL     time.Duration        // 0: not sent
	timeout    time.Duration
	now        func() time.Time
	apiOptions []clerkapi.Option
}

// WithLifetime sets the lifetime of the tokens the source creates (sent as
// seconds_until_expiration, rounded down to whole seconds). It must be at least
// one second.
//
// Default: the machine's default_token_ttl (3600 s unless changed in Clerk).
func WithLifetime(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second {
			return fmt.Errorf("m2mclient: lifetime %v is shorter than one second", d)
		}
		c.lifetime = d.Truncate(time.Second)
		return nil
	}
}

// WithClaims sets the custom claims of the tokens the source creates: any value
// that marshals to a JSON object. It is marshaled once, by NewTokenSource, so
// later changes to v have no effect.
//
// Default: no claims.
func WithClaims(v any) Option {
	return func(c *config) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("m2mclient: claims do not marshal to JSON: %w", err)
		}
		if string(b) == "null" {
			c.claims = nil
			return nil
		}
		if len(b) == 0 || b[0] != '{' {
			return errors.New("m2mclient: claims must marshal to a JSON object")
		}
		c.claims = b
		return nil
	}
}

// WithFormat sets the format of the tokens: [clerkapi.FormatOpaque] (revocable,
// verified by Clerk) or [clerkapi.FormatJWT] (verifiable locally, not revocable).
//
// Default: Clerk's default, opaque.
func WithFormat(f clerkapi.TokenFormat) Option {
	return func(c *config) error {
		if f != clerkapi.FormatOpaque && f != clerkapi.FormatJWT {
			return fmt.Errorf("m2mclient: unknown token format %q", f)
		}
		c.format = f
		return nil
	}
}

// WithRefreshMargin sets how long before a token's expiry the source replaces
// it. Zero refreshes only once the token has expired. A margin that is not
// shorter than a token's remaining life is reduced to half of it, so a token is
// always used for a while before it is replaced.
//
// Default: 20 % of the token's remaining life when it was received, at most
// [MaxDefaultRefreshMargin] (5 min): 5 min for a one-hour token, 12 s for a
// one-minute token.
func WithRefreshMargin(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("m2mclient: refresh margin must not be negative")
		}
		c.margin = d
		return nil
	}
}

// WithMinRemainingTTL asks Clerk, on every create, to hand back an existing live
// opaque token of this machine with identical claims and at least d left
// instead of minting a new one (min_remaining_ttl_seconds, whole seconds). It
// suits processes that cannot keep a token in memory between runs (CLIs, cron
// jobs, short-lived functions). It must be shorter than the lifetime and cannot
// be combined with the JWT format. After [TokenSource.Invalidate] the next
// create leaves it out, so a refused token is never handed back. Choose d no
// shorter than the refresh margin, or a refresh-ahead may be answered with the
// very token being replaced (the source copes, but spends a create call).
//
// Default: not sent; every create mints a new token.
func WithMinRemainingTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second {
			return fmt.Errorf("m2mclient: min remaining TTL %v is shorter than one second", d)
		}
		c.minTTL = d.Truncate(time.Second)
		return nil
	}
}

// WithBaseURL sets the Backend API's base URL, e.g. an emulator's.
//
// Default: [clerkapi.DefaultBaseURL].
func WithBaseURL(u string) Option {
	return func(c *config) error {
		c.apiOptions = append(c.apiOptions, clerkapi.WithBaseURL(u))
		return nil
	}
}

// WithHTTPClient sets the HTTP client used to call Clerk. It is not the client
// that carries the tokens to the services being called.
//
// Default: clerkapi's default client (10 s overall timeout).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		c.apiOptions = append(c.apiOptions, clerkapi.WithHTTPClient(hc))
		return nil
	}
}

// WithTimeout bounds one create call. The call is shared by every caller waiting
// for a token and runs on a context detached from theirs, so one caller giving
// up does not fail the others; this timeout is what stops it.
//
// Default: [DefaultTimeout] (10 s).
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("m2mclient: timeout must be positive")
		}
		c.timeout = d
		return nil
	}
}

// WithClock sets the source of the current time, for tests.
//
// Default: [time.Now].
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("m2mclient: nil clock")
		}
		c.now = now
		return nil
	}
}
