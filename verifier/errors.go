package verifier

import (
	"errors"
	"strconv"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/internal/wire"
)

// The error classes. Every error Verify returns matches exactly one of the
// first four (or is the caller's ctx.Err() unwrapped); match them with
// errors.Is.
var (
	// ErrInvalidToken: the token is malformed, unknown to Clerk, revoked,
	// expired, or not granted to this machine. The caller should get a 401.
	ErrInvalidToken = errors.New("verifier: invalid token")

	// ErrUnavailable: Clerk could not give an answer (network error, timeout,
	// 5xx, 429, unreadable body), or the Verifier refused to ask it (Clerk
	// asked to wait, the breaker is open, its own bounds are reached, it is
	// closed). Never cached as invalid. The caller should get a 503 with
	// Retry-After; see UnavailableError and RetryAfter.
	ErrUnavailable = errors.New("verifier: clerk unavailable")

	// ErrMisconfigured: Clerk refused our own secret key (401/403), or the base
	// URL answered something that is not Clerk's Backend API (a redirect, an
	// HTML page, JSON of another shape). The caller should get a 500; the
	// operator must fix the key or the base URL. Never cached.
	ErrMisconfigured = errors.New("verifier: misconfigured")

	// ErrRateLimited: the request's source has spent its budget of calls to
	// Clerk (Limits.SourceRate); see RateLimitedError. The caller should
	// get a 429 with Retry-After. It does not match ErrUnavailable:
	// the caller, not Clerk, is the cause.
	ErrRateLimited = errors.New("verifier: source over its budget of calls to clerk")

	// ErrSecretKey: New was given a string that is not a usable secret key.
	// The error says what is wrong (empty, white space around it, a
	// publishable key, an unknown prefix…) and never contains any part of
	// the key.
	ErrSecretKey = errors.New("verifier: unusable secret key")
)

// InvalidTokenError says why a token is invalid. It matches ErrInvalidToken.
type InvalidTokenError struct {
	Reason string // a short phrase safe to show the caller, e.g. "token expired"
	Err    error  // the *clerkapi.APIError behind a 404, if any
}

func (e *InvalidTokenError) Error() string        { return "verifier: invalid token: " + e.Reason }
func (e *InvalidTokenError) Is(target error) bool { return target == ErrInvalidToken }
func (e *InvalidTokenError) Unwrap() error        { return e.Err }

// UnavailableError says why Clerk gave no answer and when to try again. It
// matches ErrUnavailable.
type UnavailableError struct {
	// RetryAfter is Clerk's Retry-After when it sent one (429, 503), or the
	// time left before the Verifier asks again, else zero. It is never more
	// than Limits.MaxBackoff (60 s when that is off).
	RetryAfter time.Duration
	// Err is the cause: the transport error, Clerk's *clerkapi.APIError, or
	// the Verifier's reason not to call (Stats counts each kind).
	Err error
}

func (e *UnavailableError) Error() string {
	if e.Err == nil {
		return ErrUnavailable.Error()
	}
	return ErrUnavailable.Error() + ": " + e.Err.Error()
}
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }
func (e *UnavailableError) Unwrap() error        { return e.Err }

// MisconfiguredError says what is wrong with the Verifier's configuration. It
// matches ErrMisconfigured; Err is the answer's *clerkapi.APIError.
type MisconfiguredError struct {
	// Reason is ReasonKeyRefused or ReasonNotClerk.
	Reason string
	Err    error
}

// The reasons of a MisconfiguredError.
const (
	// ReasonKeyRefused: Clerk answered 401 or 403, with its error JSON, to the
	// Verifier's own secret key.
	ReasonKeyRefused = "clerk refused the secret key"
	// ReasonNotClerk: the base URL answered something Clerk's Backend API
	// does not (a redirect, an HTML or other non-Clerk body on a 4xx, a 404
	// on /jwks): WithBaseURL is wrong.
	ReasonNotClerk = "the base URL does not answer like Clerk's Backend API"
)

func (e *MisconfiguredError) Error() string {
	s := ErrMisconfigured.Error()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}
func (e *MisconfiguredError) Is(target error) bool { return target == ErrMisconfigured }
func (e *MisconfiguredError) Unwrap() error        { return e.Err }

// RetryAfter returns the Retry-After carried by err (an *UnavailableError or
// a *RateLimitedError anywhere in its chain), or zero.
func RetryAfter(err error) time.Duration {
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return ue.RetryAfter
	}
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return rl.RetryAfter
	}
	return 0
}

// RateLimitedError says that the request's source spent its budget of calls
// to Clerk, and when it has one again. It matches ErrRateLimited.
type RateLimitedError struct {
	RetryAfter time.Duration // whole seconds, at least one
}

func (e *RateLimitedError) Error() string        { return ErrRateLimited.Error() }
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }

// The causes of an UnavailableError that are the Verifier's own decision not
// to call Clerk; Stats counts each (BackoffRefusals, BreakerRefusals,
// OverloadRefusals). Their texts follow "verifier: clerk unavailable: ".
var (
	// errBackoff: Clerk recently asked this Verifier to wait (429, or a 5xx
	// with Retry-After), and a token not in the cache was refused without a
	// call (the back-off gate, Limits.MaxBackoff). backoffError matches it.
	errBackoff = errors.New("clerk asked to wait; no call made")
	// errOverloaded: Limits.MaxInFlight calls were in flight and none ended
	// within Limits.QueueWait, or the overall budget (Limits.CallRate) was
	// spent.
	errOverloaded = errors.New("too many calls to clerk; no call made")
	// errBreakerOpen: recent calls failed (timeouts, network failures,
	// 5xx), and the breaker refuses misses for its cool-down.
	errBreakerOpen = errors.New("recent calls failed (breaker open); no call made")
	// errClosed: Verify was called on a closed Verifier.
	errClosed = errors.New("Verify after Close")
)

// backoffError is the cause of a refusal by the back-off gate: Clerk's 429 or
// 5xx that asked to wait. It matches errBackoff.
type backoffError struct {
	apiErr *clerkapi.APIError
}

func (e *backoffError) Error() string {
	return "clerk answered " + strconv.Itoa(e.apiErr.StatusCode) + " with Retry-After; no call made until then"
}
func (e *backoffError) Is(target error) bool { return target == errBackoff }
func (e *backoffError) Unwrap() error        { return e.apiErr }

// retryCap is the largest RetryAfter the Verifier ever returns:
// Limits.MaxBackoff, or the default when the gate is off. Clerk's Retry-After
// can name an hour; a caller told to wait that long over one busy moment
// would be worse off than one that asks again within a minute.
func (v *Verifier) retryCap() time.Duration {
	if v.cfg.limits.MaxBackoff > 0 {
		return v.cfg.limits.MaxBackoff
	}
	return defaultLimits.MaxBackoff
}

// unavailable returns the ErrUnavailable error for cause, carrying retryAfter
// capped by retryCap.
func (v *Verifier) unavailable(retryAfter time.Duration, cause error) *UnavailableError {
	return &UnavailableError{RetryAfter: min(retryAfter, v.retryCap()), Err: cause}
}

// ceilSeconds rounds a wait up to whole seconds, at least one: the
// RetryAfter of every refusal.
func ceilSeconds(d time.Duration) time.Duration {
	return max(1, time.Duration(wire.CeilSeconds(d))) * time.Second
}
