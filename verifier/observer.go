package verifier

import (
	"context"
	"errors"
	"net/http"
	"time"

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
	EndpointVerify Endpoint = "verify" // POST /m2m_tokens/verify
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
	case errors.Is(err, ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return OutcomeCanceled
	}
	return OutcomeUnavailable
}

// MissEnd is how a verification that missed the cache ended.
type MissEnd struct {
	Outcome  Outcome
	Duration time.Duration // from StartMiss, on the Verifier's clock (WithClock)
}

// CallEnd is how a call to Clerk ended.
type CallEnd struct {
	Outcome  Outcome
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
// returns is called with Verify's error when the miss ends.
func (v *Verifier) startMiss(ctx context.Context) (context.Context, func(error)) {
	o := v.cfg.observer
	if o == nil {
		return ctx, func(error) {}
	}
	start := v.now()
	ctx, end := o.StartMiss(ctx)
	return ctx, func(err error) { end(MissEnd{Outcome: OutcomeOf(err), Duration: v.now().Sub(start)}) }
}

// startCall tells the Observer, if any, that a call to e begins; the function
// it returns is called with the call's raw error (nil, or clerkapi's) and the
// error it was mapped to when the call has been judged.
func (v *Verifier) startCall(ctx context.Context, e Endpoint) (context.Context, func(raw, mapped error)) {
	o := v.cfg.observer
	if o == nil {
		return ctx, func(error, error) {}
	}
	start := v.now()
	ctx, end := o.StartCall(ctx, e)
	return ctx, func(raw, mapped error) {
		end(CallEnd{Outcome: v.callOutcome(raw, mapped), Status: statusOf(raw), Duration: v.now().Sub(start)})
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
