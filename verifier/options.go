package verifier

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// An Option configures a Verifier.
type Option func(*config) error

type config struct {
	baseURL     string
	httpClient  *http.Client
	cacheSize   int
	ttl         time.Duration
	negativeTTL time.Duration
	limits      Limits // as given to WithLimits; New resolves it (see Limits.resolve)
	now         func() time.Time
	logger      *slog.Logger // nil: Info and above to slog.Default() (see WithLogger)
	observer    Observer     // nil: none (WithObserver)
	shared      SharedCache  // WithSharedCache; nil: none
	localJWT    bool         // tests only (export_test.go): false sends JWTs to Clerk with sk_
}

func defaultConfig() config {
	return config{
		baseURL:     clerkapi.DefaultBaseURL,
		cacheSize:   10_000,
		ttl:         60 * time.Second,
		negativeTTL: 10 * time.Second,
		now:         time.Now,
		localJWT:    true,
	}
}

// Limits bound what inbound traffic can make a Verifier spend at Clerk, and
// how it treats a Clerk that is slow, failing or asking it to wait. Only a
// cache miss can cost a call: hits, tokens refused by the local syntax check
// and JWTs verified locally never do.
//
// A zero field takes its default. A negative one turns that bound off where
// the field says it may be off, and is an error at New elsewhere (as
// net/http's timeouts, negative meaning none).
type Limits struct {
	// Timeout bounds each call to Clerk (a verify call with its one quick
	// retry, or a GET /jwks). The call runs detached from the callers'
	// contexts; a caller whose context ends first stops waiting for it.
	// Default: 5s. It may not be off.
	Timeout time.Duration

	// SourceRate and SourceBurst are the budget of one source (the request's
	// client, named by the middleware: its IP by default): a token bucket of
	// SourceBurst calls refilled at SourceRate per second. A miss of a source
	// with an empty bucket is refused at once, without a call, with
	// ErrRateLimited (a 429 with Retry-After). One call is charged per
	// flight, not per waiting request: N concurrent requests for one new
	// token cost one; hits are never charged. The default lets a caller that
	// reuses each token for its life start 20 new tokens at once and 5 per
	// second after that without noticing, while a flood of made-up tokens
	// from one address costs Clerk at most 5 calls a second.
	// Default: 5 per second, burst 20. A negative SourceRate: no per-source
	// budget. A refill (a token that was valid before the shared cache's
	// subscription was re-established: see WithSharedCache) is charged to no
	// source.
	SourceRate  float64
	SourceBurst int
	// MaxSources is how many sources' budgets are kept, the least recently
	// seen forgotten first (a forgotten source starts again with a full
	// bucket), and, apart from them, how many sources in good standing (see
	// StandingTTL), the oldest forgotten first. Default: 10,000. It may not be
	// off.
	MaxSources int

	// CallRate and CallBurst are the budget of the whole Verifier, whatever
	// the sources, background refreshes included: a miss beyond it gets
	// ErrUnavailable with Retry-After, without a call. Default: 50 per second,
	// burst 100 (half of Clerk's production rate limit). A negative CallRate:
	// no overall budget (and so no reserved share).
	CallRate  float64
	CallBurst int
	// ReservedShare is the share of the overall budget (of its rate and of
	// its burst) kept for the calls known to be worth making: misses of
	// sources in good standing (see StandingTTL), refills (see
	// WithSharedCache), background refreshes. They use it first, then the
	// unreserved share's upper half; a miss of a source in good standing or
	// a refill then waits for the first token of the budget due, up to
	// Timeout, rather than be refused. Every other miss uses the unreserved
	// share, dealt out in turn to the sources that keep asking (one call
	// each per round), so that neither a flood from many addresses with no
	// valid history nor one source among them can take the calls of the
	// others; the upper half of either share's burst goes to anybody, first
	// come, first served, when nobody waits for it (see "Admission" in the
	// package documentation). Default: 0.5. Negative: no reservation (the
	// whole budget is the unreserved share). It must be below 1.
	ReservedShare float64
	// StandingTTL is how long a source stays in good standing after a miss
	// of it ended with a valid token (one Clerk accepted, another replica
	// did through the shared cache, or a JWT verified here). A miss of it
	// that ends with a refused token ends its good standing at once; cache
	// hits neither give nor take it. Default: 24h. It may not be off.
	StandingTTL time.Duration

	// MaxInFlight caps the calls to Clerk's verify endpoint in flight at
	// once; a call beyond it waits at most QueueWait for a slot, then gets
	// ErrUnavailable with Retry-After: 1. Goroutines, connections and memory
	// spent on Clerk are so bounded by MaxInFlight, not by inbound rate ×
	// Timeout. Default: 32. Negative: no cap.
	MaxInFlight int
	// QueueWait is how long a call waits for a slot. Default: 100ms.
	// Negative: it does not wait.
	QueueWait time.Duration

	// BreakerFailures and BreakerCooldown set the breaker for a sick Clerk:
	// after BreakerFailures consecutive calls failed for want of an answer
	// (timeout, network failure) or with a 5xx, misses get ErrUnavailable at
	// once for BreakerCooldown, with what is left of it as Retry-After; then
	// one call at a time probes Clerk (half-open) and the first success
	// closes the breaker. A refused token, a 429 or a refused key is a
	// success: Clerk answered. The cool-down runs on the Verifier's clock.
	// Default: 5 failures, 10s. A negative BreakerFailures: no breaker.
	BreakerFailures int
	BreakerCooldown time.Duration

	// MaxBackoff caps the back-off gate: when Clerk answers 429, or a 5xx
	// carrying Retry-After, the Verifier stops calling Clerk until now +
	// min(Retry-After, MaxBackoff) on its clock. Meanwhile a token not in
	// the cache gets ErrUnavailable at once with the time left as
	// Retry-After, so that new tokens and floods of made-up ones cannot
	// deepen a rate limit; cached tokens are served as usual. A later
	// Retry-After that ends later extends the window. MaxBackoff also caps
	// every Retry-After the Verifier returns (Clerk's 3600 becomes 60 s), and
	// delays the next GET /jwks after a Retry-After on it. Default: 60s.
	// Negative: no gate (every miss asks Clerk, whatever it said last;
	// Retry-After is still capped at 60 s).
	MaxBackoff time.Duration

	// RefreshAhead is the refresh-ahead fraction: a cached token used during
	// the last RefreshAhead of its TTL is verified again in the background,
	// by one call within the budgets (charged to no source), so that a token
	// in steady use never makes a request wait for Clerk. A refresh that
	// finds the token revoked makes it refused from then on; one that fails
	// transiently leaves the entry as it was, until its TTL ends and never
	// past it. An entry that ends with the token's own expiry, or that was
	// verified locally (a JWT), is not refreshed. Default: 0.2 (the last
	// fifth). Negative: no refresh-ahead. It must be below 1.
	RefreshAhead float64
}

// defaultLimits are the Limits of a Verifier without WithLimits.
var defaultLimits = Limits{
	Timeout:         5 * time.Second,
	SourceRate:      5,
	SourceBurst:     20,
	MaxSources:      10_000,
	CallRate:        50,
	CallBurst:       100,
	ReservedShare:   0.5,
	StandingTTL:     24 * time.Hour,
	MaxInFlight:     32,
	QueueWait:       100 * time.Millisecond,
	BreakerFailures: 5,
	BreakerCooldown: 10 * time.Second,
	MaxBackoff:      60 * time.Second,
	RefreshAhead:    0.2,
}

// WithLimits sets the bounds of Limits: its zero fields keep their defaults
// (or what an earlier WithLimits set), its negative ones turn the bound off
// where that is allowed. An invalid field (a negative Timeout, MaxSources,
// burst, cool-down or StandingTTL; RefreshAhead or ReservedShare of 1 or
// more) is an error at New.
//
// Default: the defaults of each field of Limits.
func WithLimits(l Limits) Option {
	return func(c *config) error {
		c.limits = c.limits.over(l)
		return nil
	}
}

// over returns l with the non-zero fields of top in place of its own.
func (l Limits) over(top Limits) Limits {
	overwrite(&l.Timeout, top.Timeout)
	overwrite(&l.SourceRate, top.SourceRate)
	overwrite(&l.SourceBurst, top.SourceBurst)
	overwrite(&l.MaxSources, top.MaxSources)
	overwrite(&l.CallRate, top.CallRate)
	overwrite(&l.CallBurst, top.CallBurst)
	overwrite(&l.ReservedShare, top.ReservedShare)
	overwrite(&l.StandingTTL, top.StandingTTL)
	overwrite(&l.MaxInFlight, top.MaxInFlight)
	overwrite(&l.QueueWait, top.QueueWait)
	overwrite(&l.BreakerFailures, top.BreakerFailures)
	overwrite(&l.BreakerCooldown, top.BreakerCooldown)
	overwrite(&l.MaxBackoff, top.MaxBackoff)
	overwrite(&l.RefreshAhead, top.RefreshAhead)
	return l
}

// overwrite sets *dst to v unless v is zero.
func overwrite[T int | float64 | time.Duration](dst *T, v T) {
	if v != 0 {
		*dst = v
	}
}

// resolve returns l with its zero fields set to their defaults and the bounds
// turned off (negative) set to zero, which the Verifier reads as "off".
func (l Limits) resolve() (Limits, error) {
	d := defaultLimits
	r := Limits{
		SourceRate:      orOff(l.SourceRate, d.SourceRate),
		CallRate:        orOff(l.CallRate, d.CallRate),
		ReservedShare:   orOff(l.ReservedShare, d.ReservedShare),
		MaxInFlight:     orOff(l.MaxInFlight, d.MaxInFlight),
		QueueWait:       orOff(l.QueueWait, d.QueueWait),
		BreakerFailures: orOff(l.BreakerFailures, d.BreakerFailures),
		MaxBackoff:      orOff(l.MaxBackoff, d.MaxBackoff),
		RefreshAhead:    orOff(l.RefreshAhead, d.RefreshAhead),
	}
	var err error
	r.Timeout = orDefault("Timeout", l.Timeout, d.Timeout, &err)
	r.SourceBurst = orDefault("SourceBurst", l.SourceBurst, d.SourceBurst, &err)
	r.MaxSources = orDefault("MaxSources", l.MaxSources, d.MaxSources, &err)
	r.CallBurst = orDefault("CallBurst", l.CallBurst, d.CallBurst, &err)
	r.StandingTTL = orDefault("StandingTTL", l.StandingTTL, d.StandingTTL, &err)
	r.BreakerCooldown = orDefault("BreakerCooldown", l.BreakerCooldown, d.BreakerCooldown, &err)
	switch {
	case err != nil:
	case r.RefreshAhead >= 1:
		err = errors.New("verifier: Limits.RefreshAhead must be below 1")
	case r.ReservedShare >= 1:
		err = errors.New("verifier: Limits.ReservedShare must be below 1")
	}
	return r, err
}

// orOff is a Limits field that may be off: def for zero, zero (off) for a
// negative value.
func orOff[T int | float64 | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// orDefault is a Limits field that may not be off: def for zero; a negative
// value sets *err (the first one found).
func orDefault[T int | float64 | time.Duration](name string, v, def T, err *error) T {
	if v < 0 && *err == nil {
		*err = errors.New("verifier: Limits." + name + " must not be negative")
	}
	if v <= 0 {
		return def
	}
	return v
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
// by Limits.Timeout whatever the client's own timeout. The Verifier uses a
// copy of hc that does not follow redirects (hc itself is not modified): a
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
// kept; memory is bounded by it whatever the traffic. Refusals have their own
// part, a quarter of it, so that junk cannot evict a valid token.
//
// Default: 10,000.
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
// accepted for at most this long (or until Invalidate / InvalidateID), less
// when refresh-ahead sees the revocation first (Limits.RefreshAhead).
//
// Default: 60s.
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
// Default: 10s.
func WithNegativeTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("verifier: negative TTL must not be negative")
		}
		c.negativeTTL = d
		return nil
	}
}

// WithClock sets the clock used for cache expiry, token expiry checks, the
// back-off gate, the breaker and the JWKS cache, e.g. a clerktest.Clock's Now
// shared with the emulator.
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

// WithLogger sets the logger. The Verifier logs:
//   - at Error, once per Verifier each, that Clerk refused its secret key and
//     that the base URL does not answer like Clerk's Backend API;
//   - at Warn, the first failure of each Clerk outage (naming its cause: a
//     refused connection, a timeout, a 5xx…), the start of each back-off
//     that Clerk's 429 asks for, and each outage of the shared cache and its
//     end;
//   - at Debug, each failed call to Clerk.
//
// None of these is logged per request, and no line ever holds a token or a
// key.
//
// Default: the Warn and Error lines go to slog.Default(), looked up when each
// line is written (so that a default set after New is used); nothing else is
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("verifier: nil logger")
		}
		c.logger = l
		return nil
	}
}
