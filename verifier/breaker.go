package verifier

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// breaker stops calling a sick Clerk: after Limits.BreakerFailures
// consecutive failed calls (timeouts, network failures, 5xx), misses fail fast
// with ErrUnavailable for the cool-down instead of each waiting for its
// timeout; then one probe at a time tests recovery (half-open), and a success
// closes it while a failure opens it again. Answers that show Clerk alive — a
// token refused, a 429 (the back-off gate's business), our key refused —
// count as successes. It runs on the Verifier's clock (WithClock), like the
// back-off gate beside it.
//
// It is the state machine of github.com/sony/gobreaker's two-step breaker
// (generations, one probe when half-open), written here rather than imported:
// gobreaker reads time.Now, which WithClock could not drive, and its module
// would add four modules (testify and its dependencies) to every user's
// graph. A nil *breaker never refuses.
type breaker struct {
	failures int
	cooldown time.Duration
	now      func() time.Time

	mu          sync.Mutex
	state       breakerState
	generation  uint64 // bumped on every change of state: late outcomes of an older one are ignored
	consecutive int    // failures in a row while closed
	openedAt    time.Time
	probing     bool // half-open: the one probe is out
}

type breakerState uint8

const (
	breakerClosed breakerState = iota
	breakerOpen
	breakerHalfOpen
)

func (s breakerState) String() string {
	return [...]string{"closed", "open", "half-open"}[s]
}

func newBreaker(failures int, cooldown time.Duration, now func() time.Time) *breaker {
	return &breaker{failures: failures, cooldown: cooldown, now: now}
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
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.current(now) != breakerOpen {
		return nil
	}
	return b.openError(now)
}

// allow asks for one call: done must then be called with its raw outcome.
// While open, or half-open with its probe out, it refuses.
func (b *breaker) allow() (done func(error), err error) {
	if b == nil {
		return func(error) {}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	switch b.current(now) {
	case breakerOpen:
		return nil, b.openError(now)
	case breakerHalfOpen:
		if b.probing {
			return nil, b.openError(now)
		}
		b.probing = true
	}
	gen := b.generation
	return func(err error) { b.after(gen, err) }, nil
}

// after records the outcome of a call allowed in generation gen.
func (b *breaker) after(gen uint64, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.current(now); gen != b.generation {
		return // the state changed while the call was out
	}
	switch {
	case errors.Is(err, errAbandoned):
		b.probing = false
	case sick(err):
		b.consecutive++
		if b.state == breakerHalfOpen || b.consecutive >= b.failures {
			b.set(breakerOpen, now)
		}
	default:
		b.consecutive = 0
		if b.state == breakerHalfOpen {
			b.set(breakerClosed, now)
		}
	}
}

// current moves an open breaker whose cool-down has passed to half-open and
// returns the state. b.mu is held.
func (b *breaker) current(now time.Time) breakerState {
	if b.state == breakerOpen && !now.Before(b.openedAt.Add(b.cooldown)) {
		b.set(breakerHalfOpen, now)
	}
	return b.state
}

// set changes the state, starting a new generation. b.mu is held.
func (b *breaker) set(s breakerState, now time.Time) {
	b.state, b.generation, b.consecutive, b.probing = s, b.generation+1, 0, false
	if s == breakerOpen {
		b.openedAt = now
	}
}

// openError is the refusal while open: Retry-After is what is left of the
// cool-down (at least one second). b.mu is held.
func (b *breaker) openError(now time.Time) error {
	left := b.openedAt.Add(b.cooldown).Sub(now)
	return &UnavailableError{RetryAfter: ceilSeconds(left), Err: errBreakerOpen}
}

// stateName returns the breaker's state for Stats: "closed", "open",
// "half-open", or "off" when there is no breaker.
func (b *breaker) stateName() string {
	if b == nil {
		return "off"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.current(b.now()).String()
}
