package verifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// call sends the verify request, retrying once, at once, when the connection
// failed before any answer (refused, reset, closed): never after a timeout or
// any HTTP answer.
func (v *Verifier) call(ctx context.Context, token string) (*clerkapi.M2MToken, error) {
	v.stats.upstream.Add(1)
	m, err := v.client.VerifyToken(ctx, token)
	if err != nil && ctx.Err() == nil && isConnectionFailure(err) {
		v.stats.retries.Add(1)
		v.stats.upstream.Add(1)
		m, err = v.client.VerifyToken(ctx, token)
	}
	return m, err
}

// isConnectionFailure reports whether err is a transport failure that happened
// before any HTTP answer and is not a timeout. Such failures come from
// http.Client.Do as a *url.Error; a failure while reading an answer's body
// does not, and is not retried.
func isConnectionFailure(err error) bool {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// reasonNotFound is the reason given for Clerk's 404.
const reasonNotFound = "token unknown, revoked, expired or not granted to this machine"

// upstreamError maps a failed call to the verdict every waiter gets. Only
// Clerk's refusal of the token (a 404 with Clerk's error JSON) is remembered;
// nothing transient, and no sign of a misconfiguration, ever is.
func (v *Verifier) upstreamError(ctx context.Context, err error) verdict {
	var ae *clerkapi.APIError
	if !errors.As(err, &ae) {
		return verdict{err: v.noAnswer(ctx, "m2mauth verifier: clerk unavailable", err)}
	}
	clerk := ae.IsClerkError()
	switch s := ae.StatusCode; {
	case s == http.StatusNotFound && clerk:
		return verdict{refused: &InvalidTokenError{Reason: reasonNotFound, Err: ae}}
	case (s == http.StatusBadRequest || s == http.StatusUnprocessableEntity) && clerk:
		// Clerk refused the token's form; not remembered, as it could also
		// be a change on Clerk's side that a later call would not hit.
		return verdict{err: &InvalidTokenError{Reason: "token rejected by Clerk as malformed", Err: ae}}
	case s == http.StatusTooManyRequests || s >= 500 || (s >= 400 && clerk && s != http.StatusUnauthorized && s != http.StatusForbidden):
		// 429, 5xx, and any other 4xx of Clerk's: fail closed, try later.
		v.log.Debug("m2mauth verifier: clerk unavailable", "status", s, "retry_after", ae.RetryAfter, "trace_id", ae.TraceID)
		if v.backoff.open(v.now(), ae) {
			v.log.Warn("m2mauth verifier: clerk asked to wait; tokens not in the cache are refused without a call until then",
				"status", s, "retry_after", ae.RetryAfter, "max_backoff", v.cfg.maxBackoff, "trace_id", ae.TraceID)
			if v.shared != nil {
				v.sharedBackoff(s, min(ae.RetryAfter, v.cfg.maxBackoff)) // every replica waits too
			}
		}
		return verdict{err: v.unavailable(ae.RetryAfter, ae)}
	default:
		// 401/403 (Clerk's: our key; another's: not Clerk), a redirect, or a
		// 4xx whose body is not Clerk's error JSON.
		return verdict{err: v.misconfiguredAnswer(ae, endpointVerify)}
	}
}

// noAnswer maps a call that got no HTTP answer (network failure, timeout,
// unreadable body, Close) to ErrUnavailable, and logs it at Debug level.
func (v *Verifier) noAnswer(ctx context.Context, msg string, err error) error {
	switch {
	case v.closing.Err() != nil:
		return &UnavailableError{Err: ErrClosed}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		err = &timeoutError{d: v.cfg.timeout}
	}
	v.log.Debug(msg, "error", err.Error())
	return &UnavailableError{Err: err}
}

// timeoutError: Clerk gave no answer within the configured timeout.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("no answer from clerk within %v", e.d) }
func (e *timeoutError) Timeout() bool { return true }
