package verifier

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// An Observer is told where a Verifier's slow work begins and ends, for
// metrics and traces (see the modules metrics/m2mprom and metrics/m2motel):
// each verification that missed the cache, and each call to Clerk inside it
// or on its own (a background refresh, a JWKS fetch, a readiness probe). It
// is never called on a cache hit.
//
// Each Start method returns the context the observed work then runs with
// (e.g. one carrying a new span, so that a call's span is a child of its
// miss's, and an instrumented HTTP transport sees it) and a function the
// Verifier calls exactly once when the work ends. An Observer is told no
// token, key, subject, token ID or source: only endpoints, outcomes, HTTP
// statuses and durations.
//
// The methods are called from many goroutines at once and must be safe for
// concurrent use; they run on the request's path, so they must be fast and
// must not block.
type Observer interface {
	// StartMiss is called when Verify found no live cache entry, before
	// admission; end is called when Verify returns.
	StartMiss(ctx context.Context) (context.Context, func(MissEnd))
	// StartCall is called before a call to Clerk's endpoint e; end is called
	// when its answer has been judged. A quick retry after a connection
	// failure is part of the same call.
	StartCall(ctx context.Context, e Endpoint) (context.Context, func(CallEnd))
}

// An Endpoint is one of the Clerk endpoints a Verifier calls.
type Endpoint string

// The endpoints told to an Observer.
const (
	EndpointVerify Endpoint = "verify" // the verify endpoint of the token's kind (CallEnd.Kind)
	EndpointJWKS   Endpoint = "jwks"   // GET /jwks
)

// An Outcome says in one low-cardinality word how a miss or a call ended.
type Outcome string

// The outcomes. A miss ends with any of them but OutcomeRateLimited meaning
// Clerk's 429: for a miss it is this source's budget (ErrRateLimited).
const (
	OutcomeOK            Outcome = "ok"            // a verified token (a miss), a verdict or the keys (a call)
	OutcomeInvalid       Outcome = "invalid"       // ErrInvalidToken: refused locally or by Clerk
	OutcomeUnavailable   Outcome = "unavailable"   // ErrUnavailable: no answer, 5xx, refused by admission
	OutcomeRateLimited   Outcome = "rate_limited"  // a miss: ErrRateLimited; a call: Clerk answered 429
	OutcomeMisconfigured Outcome = "misconfigured" // ErrMisconfigured: our key refused, or not Clerk
	OutcomeCanceled      Outcome = "canceled"      // the caller's context ended, or Close cancelled the call
)

// OutcomeOf returns the Outcome of an error returned by Verify (nil: OutcomeOK).
func OutcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrInvalidToken):
		return OutcomeInvalid
	case errors.Is(err, ErrMisconfigured):
		return OutcomeMisconfigured
	case errors.Is(err, ErrRateLimited):
		return OutcomeRateLimited
	case errors.Is(err, errClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return OutcomeCanceled
	}
	return OutcomeUnavailable
}

// MissEnd is how a verification that missed the cache ended.
type MissEnd struct {
	Outcome  Outcome
	Kind     Kind          // the token's kind; "" when it was refused before its kind was known
	Duration time.Duration // from StartMiss, on the Verifier's clock (WithClock)
}

// CallEnd is how a call to Clerk ended.
type CallEnd struct {
	Outcome  Outcome
	Kind     Kind          // the kind verified (EndpointVerify); "" for EndpointJWKS
	Status   int           // the HTTP status of Clerk's last answer; 0 when there was none
	Duration time.Duration // from StartCall, on the Verifier's clock (WithClock), retry included
}

// WithObserver sets the Observer told about each miss and each call to
// Clerk. A nil Observer is an error.
//
// Default: none; a cache hit never costs anything either way.
func WithObserver(o Observer) Option {
	return func(c *config) error {
		if o == nil {
			return errors.New("verifier: nil observer")
		}
		c.observer = o
		return nil
	}
}

// startMiss tells the Observer, if any, that a miss begins; the function it
// returns is called with the token's kind and Verify's error when the miss
// ends.
func (v *Verifier) startMiss(ctx context.Context) (context.Context, func(Kind, error)) {
	o := v.cfg.observer
	if o == nil {
		return ctx, func(Kind, error) {}
	}
	start := v.now()
	ctx, end := o.StartMiss(ctx)
	return ctx, func(k Kind, err error) {
		end(MissEnd{Outcome: OutcomeOf(err), Kind: k, Duration: v.now().Sub(start)})
	}
}

// startCall tells the Observer, if any, that a call to e begins for a token
// of kind k (none for the JWKS); the function it returns is called with the
// call's raw error (nil, or clerkapi's) and the error it was mapped to when
// the call has been judged.
func (v *Verifier) startCall(ctx context.Context, e Endpoint, k Kind) (context.Context, func(raw, mapped error)) {
	o := v.cfg.observer
	if o == nil {
		return ctx, func(error, error) {}
	}
	start := v.now()
	ctx, end := o.StartCall(ctx, e)
	return ctx, func(raw, mapped error) {
		end(CallEnd{Outcome: v.callOutcome(raw, mapped), Kind: k, Status: statusOf(raw), Duration: v.now().Sub(start)})
	}
}

// callOutcome is the Outcome of a call whose raw error was raw and whose
// judged error was mapped: Clerk's 429 is OutcomeRateLimited, a call that
// Close cancelled OutcomeCanceled, a refusal of the token OutcomeInvalid.
func (v *Verifier) callOutcome(raw, mapped error) Outcome {
	switch {
	case v.closing.Err() != nil && raw != nil:
		return OutcomeCanceled
	case statusOf(raw) == http.StatusTooManyRequests:
		return OutcomeRateLimited
	case errors.Is(mapped, context.DeadlineExceeded):
		return OutcomeUnavailable // our own timeout, not the caller's
	}
	return OutcomeOf(mapped)
}

// statusOf returns the HTTP status of err's *clerkapi.APIError: 200 for nil,
// 0 when there was no answer.
func statusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var ae *clerkapi.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

// Stats is a snapshot of a Verifier's counters since New.
type Stats struct {
	Hits          uint64 // Verify found a positive cache entry (a token expired since is refused locally)
	NegativeHits  uint64 // Verify answered from a negative cache entry
	Misses        uint64 // Verify found no live cache entry
	UpstreamCalls uint64 // HTTP calls to Clerk's verify endpoint, retries included
	Retries       uint64 // quick retries after a connection-level failure
	SharedWaits   uint64 // misses answered by another caller's call (singleflight)

	// Errors returned by Verify, by kind.
	Invalid       uint64 // ErrInvalidToken: local check, Clerk's refusal, negative hit
	Unavailable   uint64 // ErrUnavailable (closed Verifier included)
	Misconfigured uint64 // ErrMisconfigured
	Canceled      uint64 // the caller's context ended first

	// BackoffRefusals counts misses refused by the back-off gate, without a
	// call to Clerk, because Clerk had asked to wait (see Limits.MaxBackoff). They
	// are counted in Unavailable too.
	BackoffRefusals uint64

	// LocalJWTChecks counts JWT-format tokens verified locally (a Clerk secret key):
	// one per cold token, valid or not; a cache hit is not one.
	LocalJWTChecks uint64
	// JWKSFetches counts calls to Clerk's GET /jwks, failed ones and
	// readiness probes (Ready) included.
	JWKSFetches uint64

	// Refusals of admission, without a call to Clerk (see Limits).
	// RateLimited are not counted in Unavailable (they are the caller's
	// doing: a 429); the two others are.
	RateLimited      uint64 // a source over its budget (ErrRateLimited)
	OverloadRefusals uint64 // no slot among the calls in flight in time, or the overall budget spent
	BreakerRefusals  uint64 // the breaker was open

	// The overall budget by class of call (see Limits.ReservedShare), one
	// per call asked for, not per request: reserved, the calls entitled to
	// the reserved share (misses of sources in good standing, refills,
	// background refreshes); unreserved, the misses of every other source.
	// Refusals are those of the overall budget (part of OverloadRefusals,
	// which counts requests). All zero without an overall budget.
	ReservedAdmissions   uint64
	UnreservedAdmissions uint64
	ReservedRefusals     uint64 // neither the reserved share nor the unreserved one's upper half in time
	UnreservedRefusals   uint64 // not the source's turn, and no upper half free
	// Refills counts calls admitted for tokens that were valid before the
	// shared cache's subscription was re-established (see WithSharedCache),
	// charged to no source.
	Refills uint64
	// GoodStanding is the number of sources in good standing now (see
	// Limits.StandingTTL).
	GoodStanding int

	// Refreshes counts background refreshes run (see Limits.RefreshAhead), one
	// flight each; RefreshFailures those of them that got no verdict (refused
	// by admission, Clerk unavailable): their entries stay until their TTL
	// ends.
	Refreshes       uint64
	RefreshFailures uint64

	InFlight     int    // calls to Clerk's verify endpoint in flight now
	BreakerState string // "closed", "open", "half-open", or "off"

	CacheEntries int // entries in the cache now

	// The shared cache (WithSharedCache); all zero without one. Misses and
	// Hits above are those of the Verifier's own cache: a miss there that
	// the shared cache answers is a Miss and a SharedHit (or ClusterWait).
	SharedHits     uint64 // flights that found an entry there (and copied it here)
	SharedMisses   uint64 // flights that found nothing there
	ClusterWaits   uint64 // flights answered by another replica's call to Clerk (it held the lock)
	SharedErrors   uint64 // calls to it that failed for an outage (refused, reset, timed out on the wire): sharing paused
	SharedBusy     uint64 // calls or waits that ran out of the miss's budget (no free connection, a slow holder): not an outage
	SharedRejected uint64 // entries or messages there that did not authenticate, were stale or predated a revocation: ignored
	SharedPurges   uint64 // (re)subscriptions, each of which retired the own cache (see WithSharedCache)
}

// counters are the Verifier's own counters. Hits and misses live in the
// cache; the ones here are written on the miss and error paths only.
type counters struct {
	upstream, retries, shared                     atomic.Uint64
	invalid, unavailable, misconfigured, canceled atomic.Uint64
	backoff                                       atomic.Uint64
	localJWT, jwks                                atomic.Uint64
	rateLimited, overloaded, breaker              atomic.Uint64
	refreshes, refreshFailures                    atomic.Uint64
}

// Stats returns the Verifier's counters. They are read one by one, so a
// snapshot taken under load is approximate.
func (v *Verifier) Stats() Stats {
	cs := v.cache.Stats()
	st := Stats{
		Hits:            cs.Hits,
		NegativeHits:    cs.NegativeHits,
		Misses:          cs.Misses,
		UpstreamCalls:   v.stats.upstream.Load(),
		Retries:         v.stats.retries.Load(),
		SharedWaits:     v.stats.shared.Load(),
		Invalid:         v.stats.invalid.Load(),
		Unavailable:     v.stats.unavailable.Load(),
		Misconfigured:   v.stats.misconfigured.Load(),
		Canceled:        v.stats.canceled.Load(),
		BackoffRefusals: v.stats.backoff.Load(),
		LocalJWTChecks:  v.stats.localJWT.Load(),
		JWKSFetches:     v.stats.jwks.Load(),

		RateLimited:      v.stats.rateLimited.Load(),
		OverloadRefusals: v.stats.overloaded.Load(),
		BreakerRefusals:  v.stats.breaker.Load(),
		Refreshes:        v.stats.refreshes.Load(),
		RefreshFailures:  v.stats.refreshFailures.Load(),
		InFlight:         v.admit.inFlight(),
		BreakerState:     v.admit.breaker.stateName(),

		ReservedAdmissions:   v.admit.admitted[classReserved].Load(),
		UnreservedAdmissions: v.admit.admitted[classUnreserved].Load(),
		ReservedRefusals:     v.admit.refused[classReserved].Load(),
		UnreservedRefusals:   v.admit.refused[classUnreserved].Load(),
		Refills:              v.admit.refills.Load(),
		GoodStanding:         v.admit.goodStanding(v.now()),

		CacheEntries: cs.Entries,
	}
	if sh := v.shared; sh != nil {
		st.SharedHits, st.SharedMisses, st.ClusterWaits = sh.hits.Load(), sh.misses.Load(), sh.waits.Load()
		st.SharedErrors, st.SharedRejected, st.SharedPurges = sh.errs.Load(), sh.rejected.Load(), sh.purges.Load()
		st.SharedBusy = sh.busy.Load()
	}
	return st
}

// Timing of Ready, on the Verifier's clock.
const (
	// readyTTL is how long Ready remembers its probe of Clerk (probes every
	// second cost Clerk one call per readyTTL), and how long it reports the
	// last failure to reach Clerk that a call met (with a machine key).
	readyTTL = 5 * time.Second
	// readyTimeout bounds one probe of Clerk (or Limits.Timeout if shorter).
	readyTimeout = 2 * time.Second
)

// health is what Ready knows.
type health struct {
	// keyRefused is the misconfiguration that Clerk's verify endpoint last
	// answered, nil since its last verdict (or before any call).
	keyRefused atomic.Pointer[MisconfiguredError]
	// failed is the last call to Clerk that got no answer or a 5xx, nil
	// since a call got an answer (see Verifier.sawClerk).
	failed  atomic.Pointer[probeResult]
	probe   atomic.Pointer[probeResult] // the last probe; nil before the first
	flights singleflight.Group          // one probe at a time
}

// sawFailure records the failure of a call to Clerk at now (err nil: the
// call got an answer), for Ready to report for readyTTL.
func (h *health) sawFailure(err error, now time.Time) {
	if err == nil {
		if h.failed.Load() != nil {
			h.failed.Store(nil)
		}
		return
	}
	h.failed.Store(&probeResult{err: &UnavailableError{Err: err}, expires: now.Add(readyTTL)})
}

// probeResult is a probe's outcome, remembered until expires.
type probeResult struct {
	err     error
	expires time.Time
}

// sawVerify records the judged outcome of a call to the verify endpoint: a
// misconfiguration is remembered until Clerk next gives a verdict (a token or
// a refusal of the token); no answer changes nothing.
func (h *health) sawVerify(err error) {
	switch {
	case err == nil, errors.Is(err, ErrInvalidToken):
		if h.keyRefused.Load() != nil {
			h.keyRefused.Store(nil)
		}
	case errors.Is(err, ErrMisconfigured): // errors.As only here: its target escapes
		var me *MisconfiguredError
		if errors.As(err, &me) {
			h.keyRefused.Store(me)
		}
	}
}

// Ready reports whether the Verifier can verify tokens, for a readiness
// probe: nil, or an error matching ErrMisconfigured (Clerk refused the key,
// or the base URL is not Clerk's: a 500 for every miss until the
// configuration is fixed) or ErrUnavailable (closed, Clerk unreachable or
// failing, the breaker open). It never makes a paid verify call, and returns
// ctx.Err() if ctx has already ended.
//
// With a Clerk secret key (sk_…) Ready probes Clerk with GET /jwks, which is
// free and not rate limited, bounded by readyTimeout and remembered for
// readyTTL: one call per readyTTL however often it is asked, and concurrent
// callers share it.
//
// With a machine secret key (ak_…) no endpoint is both free and callable: the
// JWKS needs the instance's secret key, verifying costs money, and listing the
// machine's own tokens (GET /m2m_tokens?subject=…) needs its machine ID, which
// the key does not tell, and counts against the instance's rate limit. So
// Ready makes no call and reports what the Verifier has seen: ErrMisconfigured
// if Clerk's last answer to a verify call refused the key; ErrUnavailable
// while the breaker is open, or when the last call to Clerk got no answer (a
// refused connection, a timeout) or a 5xx less than readyTTL (5 s) ago and no
// call has got an answer since; otherwise nil, even before the first call.
//
// Whatever the key, the back-off that Clerk's 429 opens does not make Ready
// fail (the rate limit is the instance's: taking replicas out would not lift
// it, and cache hits are still served). Note that failing readiness on
// ErrUnavailable takes every replica out of service during a Clerk outage,
// although cache hits would still be served: a probe that should only catch
// bad configuration can test errors.Is(err, ErrMisconfigured).
func (v *Verifier) Ready(ctx context.Context) error {
	if v.closed.Load() {
		return errClosedUnavailable
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if me := v.health.keyRefused.Load(); me != nil {
		return me
	}
	if err := v.admit.breaker.refuse(); err != nil {
		return err
	}
	if v.keyKind == "ak" {
		if f := v.health.failed.Load(); f != nil && v.now().Before(f.expires) {
			return f.err
		}
		return nil
	}
	return v.probe(ctx)
}

// probe returns the outcome of GET /jwks, asked at most once per readyTTL.
// ctx's values (a span) go with the call; its end does not cancel it.
func (v *Verifier) probe(ctx context.Context) error {
	if p := v.health.probe.Load(); p != nil && v.now().Before(p.expires) {
		return p.err
	}
	r, _, _ := v.health.flights.Do("probe", func() (any, error) {
		if p := v.health.probe.Load(); p != nil && v.now().Before(p.expires) {
			return p, nil // a probe that ended while this caller came
		}
		_, _, err := v.fetchJWKS(ctx, min(readyTimeout, v.cfg.limits.Timeout))
		p := &probeResult{err: err, expires: v.now().Add(readyTTL)}
		v.health.probe.Store(p)
		return p, nil
	})
	return r.(*probeResult).err
}
