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
	clockSet    bool         // WithClock was given
	logger      *slog.Logger // nil: Error lines to slog.Default(), nothing else
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
		c.clockSet = true
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
