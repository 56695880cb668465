package verifier

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Timing of Ready.
const (
	// ReadyTTL is how long Ready remembers its probe of Clerk, on the
	// Verifier's clock (WithClock): probes every second cost Clerk one call
	// per ReadyTTL.
	ReadyTTL = 5 * time.Second
	// ReadyTimeout bounds one probe of Clerk (or WithTimeout if shorter).
	ReadyTimeout = 2 * time.Second
)

// health is what Ready knows.
type health struct {
	// keyRefused is the misconfiguration that Clerk's verify endpoint last
	// answered, nil since its last verdict (or before any call).
	keyRefused atomic.Pointer[MisconfiguredError]
	probe      atomic.Pointer[probeResult] // the last probe; nil before the first
	flights    singleflight.Group          // one probe at a time
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
// free and not rate limited, bounded by ReadyTimeout and remembered for
// ReadyTTL: one call per ReadyTTL however often it is asked, and concurrent
// callers share it.
//
// With a machine secret key (ak_…) no endpoint is both free and callable: the
// JWKS needs the instance's secret key, verifying costs money, and listing the
// machine's own tokens (GET /m2m_tokens?subject=…) needs its machine ID, which
// the key does not tell, and counts against the instance's rate limit. So
// Ready makes no call and reports what the Verifier has seen: ErrMisconfigured
// if Clerk's last answer to a verify call refused the key, ErrUnavailable while
// the breaker is open; otherwise nil, even before the first call.
//
// Whatever the key, the back-off that Clerk's 429 opens does not make Ready
// fail (the rate limit is the instance's: taking replicas out would not lift
// it, and cache hits are still served). Note that failing readiness on
// ErrUnavailable takes every replica out of service during a Clerk outage,
// although cache hits would still be served: a probe that should only catch
// bad configuration can test errors.Is(err, ErrMisconfigured).
func (v *Verifier) Ready(ctx context.Context) error {
	if v.closed.Load() {
		return errClosed
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
		return nil
	}
	return v.probe(ctx)
}

// probe returns the outcome of GET /jwks, asked at most once per ReadyTTL.
// ctx's values (a span) go with the call; its end does not cancel it.
func (v *Verifier) probe(ctx context.Context) error {
	if p := v.health.probe.Load(); p != nil && v.now().Before(p.expires) {
		return p.err
	}
	r, _, _ := v.health.flights.Do("probe", func() (any, error) {
		if p := v.health.probe.Load(); p != nil && v.now().Before(p.expires) {
			return p, nil // a probe that ended while this caller came
		}
		_, _, err := v.fetchJWKS(ctx, min(ReadyTimeout, v.cfg.timeout))
		p := &probeResult{err: err, expires: v.now().Add(ReadyTTL)}
		v.health.probe.Store(p)
		return p, nil
	})
	return r.(*probeResult).err
}
