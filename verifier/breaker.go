package verifier

import (
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// breaker stops calling a sick Clerk: after WithBreaker's number of
// consecutive failed calls (timeouts, network failures, 5xx), misses fail fast
// with ErrUnavailable for the cool-down instead of each waiting for its
// timeout; then one probe at a time tests recovery (half-open), and a success
// closes it. Answers that show Clerk alive — a token refused, a 429 (the
// back-off gate's business), our key refused — count as successes.
//
// It is github.com/sony/gobreaker's two-step breaker, which reads time.Now:
// the cool-down runs on the real clock (tests use testing/synctest), not on
// WithClock's. A nil *breaker never refuses.
type breaker struct {
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	cooldown time.Duration
	opened   atomic.Int64 // time.Now().UnixNano() of the last opening
}

func newBreaker(failures int, cooldown time.Duration) *breaker {
	b := &breaker{cooldown: cooldown}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "clerk-verify",
		MaxRequests: 1, // one probe at a time when half-open
		Timeout:     cooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(failures) },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.opened.Store(time.Now().UnixNano())
			}
		},
		IsSuccessful: func(err error) bool { return !sick(err) },
		IsExcluded:   func(err error) bool { return errors.Is(err, errAbandoned) },
	})
	return b
}

// errAbandoned is given to a call's end when the call was cancelled by Close:
// it says nothing of Clerk's health.
var errAbandoned = errors.New("verifier: call abandoned")

// sick reports whether err, the raw outcome of a call to Clerk, says that
// Clerk is unwell: no answer (timeout, network) or a 5xx.
func sick(err error) bool {
	if err == nil {
		return false
	}
	var ae *clerkapi.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= http.StatusInternalServerError
	}
	return true // no HTTP answer at all
}

// refuse returns the error for a miss while the breaker is open, or nil.
func (b *breaker) refuse() error {
	if b == nil || b.cb.State() != gobreaker.StateOpen {
		return nil
	}
	return b.openError()
}

// allow asks for one call: done must then be called with its raw outcome.
func (b *breaker) allow() (done func(error), err error) {
	if b == nil {
		return func(error) {}, nil
	}
	done, err = b.cb.Allow()
	if err != nil {
		return nil, b.openError() // open, or half-open with its probe out
	}
	return done, nil
}

// openError is the refusal while open: Retry-After is what is left of the
// cool-down (at least one second).
func (b *breaker) openError() error {
	left := b.cooldown - time.Since(time.Unix(0, b.opened.Load()))
	return &UnavailableError{RetryAfter: ceilSeconds(left), Err: ErrBreakerOpen}
}

// state returns the breaker's state for Stats: "closed", "open",
// "half-open", or "off" when there is no breaker.
func (b *breaker) state() string {
	if b == nil {
		return "off"
	}
	return b.cb.State().String()
}
