package verifier

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// Defaults of the options.
const (
	DefaultCacheSize   = 10_000
	DefaultTTL         = 60 * time.Second
	DefaultNegativeTTL = 10 * time.Second
	DefaultTimeout     = 5 * time.Second
	DefaultMaxBackoff  = 60 * time.Second

	// Admission of cache misses (see WithSourceBudget and the options after it).
	DefaultSourceRate      = 5.0 // calls to Clerk per second and source
	DefaultSourceBurst     = 20
	DefaultMaxSources      = 10_000
	DefaultCallRate        = 50.0 // calls to Clerk per second in all
	DefaultCallBurst       = 100
	DefaultMaxInFlight     = 32
	DefaultQueueWait       = 100 * time.Millisecond
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 10 * time.Second
	DefaultRefreshAhead    = 0.2 // the last fifth of the TTL
)

// An Option configures a Verifier.
type Option func(*config) error

type config struct {
	baseURL     string
	httpClient  *http.Client
	cacheSize   int
	ttl         time.Duration
	negativeTTL time.Duration
	timeout     time.Duration
	maxBackoff  time.Duration
	localJWT    localJWTMode
	now         func() time.Time
	logger      *slog.Logger // nil: Error lines to slog.Default(), nothing else
	observer    Observer     // nil: none (WithObserver)

	sourceRate      float64
	sourceBurst     int
	maxSources      int
	callRate        float64
	callBurst       int
	maxInFlight     int
	queueWait       time.Duration
	breakerFailures int
	breakerCooldown time.Duration
	refreshAhead    float64

	shared SharedCache // WithSharedCache; nil: none
}

func defaultConfig() config {
	return config{
		baseURL:     clerkapi.DefaultBaseURL,
		cacheSize:   DefaultCacheSize,
		ttl:         DefaultTTL,
		negativeTTL: DefaultNegativeTTL,
		timeout:     DefaultTimeout,
		maxBackoff:  DefaultMaxBackoff,
		now:         time.Now,

		sourceRate:      DefaultSourceRate,
		sourceBurst:     DefaultSourceBurst,
		maxSources:      DefaultMaxSources,
		callRate:        DefaultCallRate,
		callBurst:       DefaultCallBurst,
		maxInFlight:     DefaultMaxInFlight,
		queueWait:       DefaultQueueWait,
		breakerFailures: DefaultBreakerFailures,
		breakerCooldown: DefaultBreakerCooldown,
		refreshAhead:    DefaultRefreshAhead,
	}
}

// WithBaseURL sets the Backend API's base URL, e.g. a clerktest emulator's URL.
// The empty string means the default, so that WithBaseURL(os.Getenv(…))
// works unchanged when the variable is unset. The Verifier does not follow
// redirects: an answer that is not Clerk's (a redirect, an HTML page, JSON of
// another shape) is ErrMisconfigured, logged once at Error level.
//
// Default: clerkapi.DefaultBaseURL, Clerk's production API.
func WithBaseURL(u string) Option {
	return func(c *config) error {
		if u == "" {
			u = clerkapi.DefaultBaseURL
		}
		c.baseURL = u // validated by clerkapi in New
		return nil
	}
}

// WithHTTPClient sets the HTTP client for calls to Clerk. Each call is bounded
// by WithTimeout whatever the client's own timeout. The Verifier uses a copy
// of hc that does not follow redirects (hc itself is not modified): a
// redirect is not an answer Clerk gives, and is ErrMisconfigured.
//
// Default: a client on http.DefaultTransport.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("verifier: nil HTTP client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithCacheSize sets how many verification results (positive and negative) are
// kept; memory is bounded by it whatever the traffic.
//
// Default: DefaultCacheSize (10,000).
func WithCacheSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("verifier: cache size must be at least 1")
		}
		c.cacheSize = n
		return nil
	}
}

// WithTTL sets how long a token Clerk accepted is trusted without asking again.
// It is always capped by the token's own expiry. A token revoked at Clerk stays
// accepted for at most this long (or until Invalidate / InvalidateID).
//
// Default: DefaultTTL (60 s).
func WithTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("verifier: TTL must be positive")
		}
		c.ttl = d
		return nil
	}
}

// WithNegativeTTL sets how long a token Clerk refused is remembered as
// invalid. Zero disables negative caching. Transient failures (network,
// timeouts, 5xx, 429) are never remembered.
//
// Default: DefaultNegativeTTL (10 s).
func WithNegativeTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("verifier: negative TTL must not be negative")
		}
		c.negativeTTL = d
		return nil
	}
}

// WithTimeout bounds each call to Clerk, the one quick retry included. The
// call runs detached from the callers' contexts; a caller whose context ends
// first stops waiting for it.
//
// Default: DefaultTimeout (5 s).
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("verifier: timeout must be positive")
		}
		c.timeout = d
		return nil
	}
}

// WithMaxBackoff caps the back-off gate. When Clerk answers 429, or a 5xx
// carrying Retry-After, the Verifier stops calling Clerk until
// now + min(Retry-After, d) on its clock (WithClock): in that window a token
// not in the cache gets ErrUnavailable at once (an *UnavailableError wrapping a
// *BackoffError, matching ErrBackoff, with the time left as RetryAfter), so new
// tokens and floods of made-up ones cannot deepen the rate limit. Cached tokens
// (accepted and refused) are served as usual, and malformed ones are still
// refused locally as invalid. A later Retry-After that ends later extends the
// window; an earlier one never shortens it. After the window the next cache
// miss asks Clerk again. A 5xx without Retry-After, a timeout or a network
// failure does not open the gate. Zero disables the gate: every miss then asks
// Clerk, whatever it said last.
//
// d also caps every RetryAfter the Verifier returns, the first answer's
// included (Clerk's Retry-After: 3600 becomes d); with the gate disabled the
// cap is DefaultMaxBackoff. A Retry-After on GET /jwks delays the next fetch
// of the keys by min(Retry-After, d), never less than JWKSMinRefetch.
//
// Default: DefaultMaxBackoff (60 s).
func WithMaxBackoff(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("verifier: max back-off must not be negative")
		}
		c.maxBackoff = d
		return nil
	}
}

// localJWTMode is WithLocalJWT's setting: unset (the default for the key),
// on or off.
type localJWTMode uint8

const (
	localJWTDefault localJWTMode = iota
	localJWTOn
	localJWTOff
)

// WithLocalJWT sets whether JWT-format M2M tokens are verified locally: their
// RS256 signature against the instance's keys (GET /jwks, cached JWKSTTL),
// their "cat" header, subject, ID, exp and nbf (JWTLeeway of clock skew) on
// the Verifier's clock. That saves Clerk's round trip and the price of a
// verification. Clerk does not check a locally verified JWT's scopes: the
// receiver must check them (middleware.WithAudience, Token.HasScope), as with
// any verification with a Clerk secret key. Local verification needs a Clerk
// secret key (sk_…): with a machine key (ak_…) JWTs always go to Clerk's verify
// endpoint, which enforces the machine's scope, and WithLocalJWT(true) is an
// error in New. false sends JWTs to Clerk like opaque tokens.
//
// Default: true with a Clerk secret key, false with a machine secret key.
func WithLocalJWT(on bool) Option {
	return func(c *config) error {
		c.localJWT = localJWTOff
		if on {
			c.localJWT = localJWTOn
		}
		return nil
	}
}

// WithClock sets the clock used for cache expiry and token expiry checks, e.g.
// a clerktest.Clock's Now shared with the emulator.
//
// Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("verifier: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithLogger sets the logger. The Verifier logs at Error level, once per
// Verifier each, that Clerk refused its secret key and that the base URL does
// not answer like Clerk; at Warn level the start of each back-off; at Debug
// level failed calls to Clerk. It never logs a token or a key.
//
// Default: the Error lines go to slog.Default(), looked up when each line is
// written (so a default set after New is used); nothing else is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("verifier: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithSourceBudget bounds the calls to Clerk that the cache misses of one
// source can cause: a token bucket of burst calls refilled at perSecond. The
// source is what WithSource put in the request's context (the middleware puts
// the client's IP there; misses without one are charged to WithCallBudget
// only). A miss of a
// source with an empty bucket is refused at once with a *RateLimitedError
// (ErrRateLimited: a 429 with Retry-After), without a call. One call is
// charged per flight, not per waiting request: N concurrent requests for one
// new token cost one. Cache hits are never charged. Buckets are kept for the
// WithMaxSources most recent sources. perSecond 0 disables the budget.
//
// The default lets a well-behaved caller — which reuses each token for its
// whole life, so that a miss is one per token per TTL — start 20 new tokens at
// once and 5 per second after that without ever noticing, while a flood of
// made-up tokens from one address costs Clerk at most 5 calls a second.
//
// Default: DefaultSourceRate (5/s), DefaultSourceBurst (20).
func WithSourceBudget(perSecond float64, burst int) Option {
	return func(c *config) error {
		if perSecond < 0 || (perSecond > 0 && burst < 1) {
			return errors.New("verifier: source budget: rate must not be negative, burst at least 1")
		}
		c.sourceRate, c.sourceBurst = perSecond, burst
		return nil
	}
}

// WithMaxSources sets how many sources' budgets (WithSourceBudget) are kept,
// the least recently seen forgotten first; memory is bounded by it whatever
// the number of sources.
//
// Default: DefaultMaxSources (10,000).
func WithMaxSources(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("verifier: max sources must be at least 1")
		}
		c.maxSources = n
		return nil
	}
}

// WithCallBudget bounds the calls to Clerk's verify endpoint of the whole
// Verifier, whatever the sources: a token bucket of burst calls refilled at
// perSecond. A miss beyond it gets ErrUnavailable (ErrOverloaded) with
// Retry-After, without a call. Background refreshes are charged too.
// perSecond 0 disables it.
//
// Default: DefaultCallRate (50/s), DefaultCallBurst (100), half of Clerk's
// production rate limit.
func WithCallBudget(perSecond float64, burst int) Option {
	return func(c *config) error {
		if perSecond < 0 || (perSecond > 0 && burst < 1) {
			return errors.New("verifier: call budget: rate must not be negative, burst at least 1")
		}
		c.callRate, c.callBurst = perSecond, burst
		return nil
	}
}

// WithMaxInFlight caps the calls to Clerk's verify endpoint in flight at once.
// A call beyond the cap waits at most WithQueueWait for a slot, then gets
// ErrUnavailable (ErrOverloaded) with Retry-After: 1. Goroutines, connections
// and memory spent on Clerk are so bounded by n and the inbound requests, not
// by inbound rate × timeout. 0 removes the cap.
//
// Default: DefaultMaxInFlight (32).
func WithMaxInFlight(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return errors.New("verifier: max in flight must not be negative")
		}
		c.maxInFlight = n
		return nil
	}
}

// WithQueueWait sets how long a call waits for a slot when WithMaxInFlight
// calls are in flight. Zero refuses at once.
//
// Default: DefaultQueueWait (100 ms).
func WithQueueWait(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("verifier: queue wait must not be negative")
		}
		c.queueWait = d
		return nil
	}
}

// WithBreaker sets the breaker for a sick Clerk: after failures consecutive
// calls to the verify endpoint failed for want of an answer (timeout, network
// failure) or with a 5xx, cache misses get ErrUnavailable (ErrBreakerOpen)
// at once for cooldown, with what is left of it as Retry-After; then one call
// at a time probes Clerk (half-open) and the first success closes the
// breaker. A refused token, a 429 or a refused key is a success: Clerk
// answered. Cache hits and JWTs verified locally are unaffected. The
// cool-down runs on the Verifier's clock (WithClock). failures 0 disables it.
//
// Default: DefaultBreakerFailures (5), DefaultBreakerCooldown (10 s).
func WithBreaker(failures int, cooldown time.Duration) Option {
	return func(c *config) error {
		if failures < 0 || (failures > 0 && cooldown <= 0) {
			return errors.New("verifier: breaker: failures must not be negative, cool-down positive")
		}
		c.breakerFailures, c.breakerCooldown = failures, cooldown
		return nil
	}
}

// WithRefreshAhead sets the refresh-ahead fraction: a cached token used
// during the last fraction of its TTL is verified again in the background, by
// one call within the budgets, so that a token in steady use never makes a
// request wait for Clerk. The request that notices is answered from the cache
// at once. A refresh that finds the token revoked makes it refused from then
// on (earlier than the TTL would); one that fails transiently leaves the
// entry as it was, until its TTL ends and never past it. An entry that ends
// with the token's own expiry is not refreshed. 0 disables refreshing.
//
// Default: DefaultRefreshAhead (0.2: the last fifth of the TTL).
func WithRefreshAhead(fraction float64) Option {
	return func(c *config) error {
		if fraction < 0 || fraction >= 1 {
			return errors.New("verifier: refresh-ahead fraction must be in [0, 1)")
		}
		c.refreshAhead = fraction
		return nil
	}
}
