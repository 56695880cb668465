package verifier

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sync/singleflight"

	"github.com/m2mauth/m2mauth/cache"
	"github.com/m2mauth/m2mauth/clerkapi"
)

// maxResponseBytes bounds Clerk's answers: a token object is well under 1 KiB
// plus its claims.
const maxResponseBytes = 256 << 10

// Verifier verifies M2M tokens with Clerk and caches the results. It is safe
// for concurrent use by multiple goroutines.
type Verifier struct {
	client  *clerkapi.Client
	cache   *cache.Cache[result] // keyed by SHA-256(token); no lock held across I/O
	flights singleflight.Group   // one upstream call per cold token
	backoff backoff              // open while Clerk asks us to wait
	admit   *admission           // budgets, cap on calls in flight, breaker
	jwks    jwksCache            // the instance's public keys, for local JWT checks
	cfg     config
	now     func() time.Time // WithClock, or time.Now
	log     *slog.Logger
	keyKind string // "sk_test", "sk_live" or "ak": safe to log
	// localJWT: JWT-format tokens are verified here against the JWKS, not by
	// Clerk's verify endpoint (a Clerk secret key).
	localJWT bool

	// closing is cancelled by Close; it cancels the calls in flight.
	closing context.Context
	close   context.CancelFunc
	closed  atomic.Bool

	// refreshes are the background refreshes running; mu orders their start
	// with Close, which waits for them.
	mu        sync.Mutex
	refreshes sync.WaitGroup

	// Each kind of misconfiguration is logged once per Verifier; an outage
	// of Clerk once when it starts and once when it ends.
	keyRefusedLogged, notClerkLogged, clerkDown atomic.Bool

	stats  counters
	health health // Ready

	shared *shared // WithSharedCache; nil: none
	purges purges  // what the shared cache's (re)subscriptions retired (purgeLocal)
}

// result is what the cache holds: a verified token and its expiry as a clock
// deadline (zero: never), or the reason a token is invalid (negative entry).
type result struct {
	tok     *Token
	expires time.Time
	err     *InvalidTokenError
	// refreshAt is when a hit starts a background refresh of a positive
	// entry (zero: never); refreshing is set by the hit that starts it.
	refreshAt  time.Time
	refreshing *atomic.Bool
}

// valid reports whether the token of a positive result is unexpired at now.
func (r *result) valid(now time.Time) bool {
	return r.expires.IsZero() || now.Before(r.expires)
}

// New returns a Verifier that asks Clerk with secretKey: a Clerk secret key
// (sk_test_…, sk_live_…) or a machine secret key (ak_…). With a machine key,
// Clerk accepts only tokens granted to that machine. A string that is not such
// a key (empty, with white space around it, a publishable key pk_…, an
// unknown prefix…) is an error matching ErrSecretKey that says what to fix,
// without any part of the key.
func New(secretKey string, opts ...Option) (*Verifier, error) {
	kind, err := checkKey(secretKey)
	if err != nil {
		return nil, err
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.limits, err = cfg.limits.resolve(); err != nil {
		return nil, err
	}
	copts := []clerkapi.Option{
		clerkapi.WithBaseURL(cfg.baseURL),
		clerkapi.WithMaxResponseBytes(maxResponseBytes),
	}
	client, err := clerkapi.New(secretKey, append(copts, clerkapi.WithHTTPClient(withoutRedirects(cfg.httpClient)))...)
	if err != nil {
		return nil, err
	}
	log := cfg.logger
	if log == nil {
		log = slog.New(toDefault{}) // Warn and Error to slog.Default(), as it is then
	}
	v := &Verifier{
		client:  client,
		cfg:     cfg,
		now:     cfg.now,
		log:     log,
		keyKind: kind,
		backoff: backoff{max: cfg.limits.MaxBackoff},
		admit:   newAdmission(cfg.limits, cfg.now),

		localJWT: kind != "ak" && cfg.localJWT,
	}
	if v.cache, err = cache.New[result](cfg.cacheSize, cache.WithClock(v.now)); err != nil {
		return nil, err
	}
	v.closing, v.close = context.WithCancel(context.Background())
	if cfg.shared != nil {
		if v.shared, err = newShared(v, cfg.shared, secretKey); err != nil {
			return nil, err
		}
		v.shared.subscribe()
	}
	return v, nil
}

// Verify returns the verified token, or an error matching ErrInvalidToken,
// ErrUnavailable, ErrMisconfigured or ErrRateLimited. source names who sent
// the token (the middleware gives the client's IP): the calls to Clerk that
// its cache miss causes are charged to that source's budget
// (Limits.SourceRate), so that one source cannot spend the calls of others;
// "" charges the overall budget only. The source is a budget key, never
// logged or exported: keep it short (an address or a prefix). When ctx ends
// before Clerk answers, Verify returns ctx.Err() itself. The Token may be
// shared with other callers: treat it as read-only.
//
// A cache hit does not allocate.
func (v *Verifier) Verify(ctx context.Context, token, source string) (*Token, error) {
	if v.closed.Load() {
		v.stats.unavailable.Add(1)
		return nil, errClosedUnavailable
	}
	sh, serr := checkSyntax(token)
	if serr != nil {
		v.stats.invalid.Add(1)
		return nil, serr
	}
	key := hashToken(token)
	if tok, err, ok := v.lookup(key, token, v.now()); ok {
		if err != nil {
			v.stats.invalid.Add(1)
		}
		return tok, err
	}
	return v.miss(ctx, key, token, sh, source)
}

var (
	errClosedUnavailable = &UnavailableError{Err: errClosed}
	errTokenExpired      = &InvalidTokenError{Reason: "token expired"}
)

// hashToken returns SHA-256(token), reading the string's bytes in place: a
// []byte(token) conversion would allocate, and sha256.Sum256 only reads.
func hashToken(token string) cache.Key {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

// miss is what follows a cache miss: the token's kind (a JWT's is read from
// it; a kind this Verifier's key cannot verify is invalid, without a call),
// then the one shared call for key (flight: the shared cache, admission,
// resolve, store), waited for until it answers or ctx ends.
func (v *Verifier) miss(ctx context.Context, key cache.Key, token string, sh shape, source string) (_ *Token, err error) {
	kind := sh.kind()
	ctx, observed := v.startMiss(ctx) // WithObserver
	defer func() { observed(kind, err) }()
	if err := ctx.Err(); err != nil {
		v.stats.canceled.Add(1)
		return nil, err
	}
	if kind == "" {
		var kerr *InvalidTokenError
		if kind, kerr = kindOfJWT(token); kerr != nil {
			v.stats.invalid.Add(1)
			return nil, kerr
		}
	}
	if !v.Verifies(kind) {
		v.stats.invalid.Add(1)
		return nil, errKindNotHere
	}
	// ran is written by the shared call only if this caller started it, and
	// read after its result arrived (the channel send orders the two).
	ran := false
	detached := context.WithoutCancel(ctx)
	ch := v.flights.DoChan(string(key[:]), func() (any, error) {
		ran = true
		return v.flight(detached, key, token, kind, source)
	})
	select {
	case r := <-ch:
		if !ran {
			v.stats.shared.Add(1)
		}
		v.admit.settle(source, r.Err, v.now()) // good standing
		if r.Err != nil {
			v.countError(r.Err)
			return nil, r.Err
		}
		return r.Val.(*Token), nil
	case <-ctx.Done():
		v.stats.canceled.Add(1)
		return nil, ctx.Err()
	}
}

func (v *Verifier) countError(err error) {
	switch {
	case errors.Is(err, ErrInvalidToken):
		v.stats.invalid.Add(1)
	case errors.Is(err, ErrMisconfigured):
		v.stats.misconfigured.Add(1)
	case errors.Is(err, ErrRateLimited):
		v.stats.rateLimited.Add(1)
	case errors.Is(err, errBackoff):
		v.stats.backoff.Add(1)
		v.stats.unavailable.Add(1)
	case errors.Is(err, errOverloaded):
		v.stats.overloaded.Add(1)
		v.stats.unavailable.Add(1)
	case errors.Is(err, errBreakerOpen):
		v.stats.breaker.Add(1)
		v.stats.unavailable.Add(1)
	default:
		v.stats.unavailable.Add(1)
	}
}

// Invalidate forgets what the cache knows about token, so that the next Verify
// of it asks Clerk (and sees a revocation).
//
// With WithSharedCache, the shared entry is deleted too and every replica
// drops the token from its own cache.
func (v *Verifier) Invalidate(token string) {
	key := hashToken(token)
	v.cache.Remove(key)
	if v.shared != nil {
		v.shared.invalidateKey(key)
	}
}

// InvalidateID forgets what the cache knows about the token with ID tokenID
// (mt_…), so that the next Verify of it asks Clerk.
// With WithSharedCache, the shared entry is deleted too and every replica
// drops the token from its own cache.
func (v *Verifier) InvalidateID(tokenID string) {
	v.cache.InvalidateID(tokenID)
	if v.shared != nil {
		v.shared.invalidateID(tokenID)
	}
}

// Close stops the Verifier: calls to Clerk in flight are cancelled, the cache
// is emptied, and every later Verify fails with ErrUnavailable.
// Close is idempotent and always returns nil.
func (v *Verifier) Close() error {
	v.mu.Lock()
	first := v.closed.CompareAndSwap(false, true)
	v.mu.Unlock()
	if first {
		v.close()
		v.refreshes.Wait()
		if v.shared != nil {
			v.shared.close()
		}
		v.cache.Purge()
	}
	return nil
}
