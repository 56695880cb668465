package verifier

import (
	"errors"
	"time"
)

var (
	// ErrInvalidToken: the token is malformed, unknown to Clerk, revoked,
	// expired, or not granted to this machine. The caller should get a 401.
	ErrInvalidToken = errors.New("verifier: invalid token")

	// ErrUnavailable: Clerk could not give an answer (network error, timeout,
	// 5xx, 429, unreadable body). Never cached as invalid. The caller should get
	// a 503 with Retry-After; see UnavailableError.
	ErrUnavailable = errors.New("verifier: clerk unavailable")

	// ErrMisconfigured: Clerk refused our own secret key (401/403), or the base
	// URL answered something that is not Clerk's Backend API (a redirect, an
	// HTML page, JSON of another shape). The caller should get a 500; the
	// operator must fix the key or the base URL. Never cached.
	ErrMisconfigured = errors.New("verifier: misconfigured")
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
	// than WithMaxBackoff (DefaultMaxBackoff when that is zero).
	RetryAfter time.Duration
	Err        error // the transport error or *clerkapi.APIError
}

func (e *UnavailableError) Error() string {
	if e.Err == nil {
		return ErrUnavailable.Error()
	}
	return "verifier: clerk unavailable: " + e.Err.Error()
}
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }
func (e *UnavailableError) Unwrap() error        { return e.Err }

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

// ErrClosed: Verify was called on a closed Verifier. It comes wrapped in an
// *UnavailableError, so it also matches ErrUnavailable (fail closed: a 503).
var ErrClosed = errors.New("verifier: closed")

// ErrBackoff: Clerk recently asked this Verifier to wait (429, or a 5xx with
// Retry-After), and Verify refused a token not in the cache without calling
// Clerk (see WithMaxBackoff), or a JWT without fetching the JWKS again. It comes as a *BackoffError wrapped in an
// *UnavailableError, so it also matches ErrUnavailable (a 503 with the
// remaining wait as Retry-After).
var ErrBackoff = errors.New("verifier: backing off: clerk asked to wait")

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
