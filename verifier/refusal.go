package verifier

import (
	"errors"
	"time"
)

// The refusals of admission (see WithSourceBudget, WithCallBudget,
// WithMaxInFlight, WithBreaker): a cache miss refused without a call to
// Clerk. Cache hits and JWTs verified locally are never refused so.
var (
	// ErrRateLimited: the request's source has spent its budget of calls to
	// Clerk (WithSourceBudget). It comes as a *RateLimitedError; the caller
	// should get a 429 with Retry-After. It does not match ErrUnavailable:
	// the caller, not Clerk, is the cause.
	ErrRateLimited = errors.New("verifier: source over its budget of calls to clerk")

	// ErrOverloaded: the Verifier's own bounds are reached — WithMaxInFlight
	// calls are in flight and none ended within WithQueueWait, or the
	// overall WithCallBudget is spent. It comes wrapped in an
	// *UnavailableError (a 503 with Retry-After).
	ErrOverloaded = errors.New("verifier: too many calls to clerk")

	// ErrBreakerOpen: recent calls to Clerk failed (timeouts, network
	// failures, 5xx) and the breaker refuses misses for its cool-down
	// (WithBreaker). It comes wrapped in an *UnavailableError (a 503 with
	// the cool-down left as Retry-After).
	ErrBreakerOpen = errors.New("verifier: clerk failing: breaker open")
)

// RateLimitedError says that the request's source spent its budget of calls
// to Clerk, and when it has one again. It matches ErrRateLimited.
type RateLimitedError struct {
	RetryAfter time.Duration // whole seconds, at least one
}

func (e *RateLimitedError) Error() string        { return ErrRateLimited.Error() }
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }
