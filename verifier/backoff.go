package verifier

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// backoff is the gate that Clerk's Retry-After opens. When Clerk answers 429,
// or a 5xx carrying Retry-After, every later cache miss is refused at once,
// without a call to Clerk, until the deadline it names (capped by
// WithMaxBackoff) has passed on the Verifier's clock: new tokens, and a flood
// of made-up well-formed ones, cannot deepen a rate limit. Cache hits are not
// affected. "Open" here means backing off, refusing misses. The zero value
// never opens (max 0).
type backoff struct {
	max   time.Duration             // cap on one back-off; 0 disables the gate
	state atomic.Pointer[gateState] // nil until Clerk first asks us to wait
}

// gateState is immutable: open replaces it as a whole.
type gateState struct {
	until time.Time     // refuse misses while now is before it
	err   *BackoffError // the cause every refusal carries
}

// opens reports whether ae asks us to stop calling: a 429 or a 5xx with a
// Retry-After. A 5xx without one, or a network failure, does not.
func opens(ae *clerkapi.APIError) bool {
	return ae.RetryAfter > 0 && (ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode >= 500)
}

// open moves the deadline to now + min(ae.RetryAfter, max) unless the current
// one is later, and reports whether this starts a back-off (the gate was not
// open at now), so that the caller logs each back-off once, not every
// extension.
func (b *backoff) open(now time.Time, ae *clerkapi.APIError) (opened bool) {
	if b.max <= 0 || !opens(ae) {
		return false
	}
	next := &gateState{until: now.Add(min(ae.RetryAfter, b.max)), err: &BackoffError{Err: ae}}
	for {
		cur := b.state.Load()
		if cur != nil && !next.until.After(cur.until) {
			return false
		}
		if b.state.CompareAndSwap(cur, next) {
			return cur == nil || !now.Before(cur.until)
		}
	}
}

// refuse returns the error for a miss at now while the gate is open, or nil.
// Its RetryAfter is the time left, rounded up to whole seconds (at least 1 s),
// and never more than max.
func (b *backoff) refuse(now time.Time) error {
	s := b.state.Load()
	if s == nil || !now.Before(s.until) {
		return nil
	}
	return &UnavailableError{RetryAfter: min(ceilSeconds(s.until.Sub(now)), b.max), Err: s.err}
}

// BackoffError is the cause of a refusal by the back-off gate: Clerk asked this
// Verifier to wait (Err is that 429 or 5xx *clerkapi.APIError), so a token not
// in the cache was refused without a call to Clerk. It matches ErrBackoff and
// comes wrapped in an *UnavailableError whose RetryAfter is the time left.
type BackoffError struct {
	Err *clerkapi.APIError
}

func (e *BackoffError) Error() string {
	return "verifier: backing off: clerk answered " + strconv.Itoa(e.Err.StatusCode) + " with Retry-After; no call made"
}
func (e *BackoffError) Is(target error) bool { return target == ErrBackoff }
func (e *BackoffError) Unwrap() error        { return e.Err }
