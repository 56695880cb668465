package verifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/m2mauth/m2mauth/cache"
	"github.com/m2mauth/m2mauth/clerkapi"
)

// fetch is the shared call of a cold token: it asks Clerk, within the
// configured timeout and independently of any caller's context, stores the
// answer in the cache and returns the token or the error every waiter gets.
// The call is charged to src (see admission.begin).
func (v *Verifier) fetch(parent context.Context, key cache.Key, token string, src *budget) (*Token, error) {
	// A call for this key may have completed between our cache miss and the
	// start of this flight: then the answer is in the cache.
	if e, ok := v.cache.Peek(key); ok {
		switch {
		case e.Negative:
			return nil, e.Value.err
		case !e.Value.valid(v.clock.fast()):
			return nil, errTokenExpired
		}
		return e.Value.tok, nil
	}
	if v.isLocalJWT(token) {
		return v.verifyJWT(key, token)
	}
	return v.ask(parent, key, token, src)
}

// ask asks Clerk's verify endpoint about token, once admitted (back-off gate,
// budgets, cap on calls in flight, breaker), and stores the verdict.
func (v *Verifier) ask(parent context.Context, key cache.Key, token string, src *budget) (*Token, error) {
	// Clerk may have asked us to wait since this caller's check in miss.
	now := v.clock.fast()
	if err := v.backoff.refuse(now); err != nil {
		return nil, err
	}
	end, err := v.admit.begin(v.closing, now, src)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(parent, v.cfg.timeout)
	defer cancel()
	stop := context.AfterFunc(v.closing, cancel) // Close cancels calls in flight
	defer stop()

	m, err := v.call(ctx, token)
	if v.closing.Err() != nil {
		end(errAbandoned)
	} else {
		end(err)
	}
	if err != nil {
		return nil, v.upstreamError(ctx, key, err)
	}
	return v.accept(key, token, m)
}

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

// accept checks Clerk's 200 answer and caches it: a token Clerk reports as
// revoked or expired, or whose expiry has passed on our clock, is invalid.
func (v *Verifier) accept(key cache.Key, token string, m *clerkapi.M2MToken) (*Token, error) {
	if m.ID == "" || m.Subject == "" || (m.Object != "" && m.Object != clerkapi.ObjectM2MToken) {
		v.log.Debug("m2mauth verifier: clerk answered 200 with an unexpected object")
		return nil, &UnavailableError{Err: fmt.Errorf("%w: not an M2M token object", clerkapi.ErrMalformedResponse)}
	}
	now := v.clock.now()
	var inv *InvalidTokenError
	switch {
	case m.Revoked:
		inv = &InvalidTokenError{Reason: "token revoked"}
	case m.Expired, !m.Expiration.IsZero() && !now.Before(m.Expiration.Time):
		inv = &InvalidTokenError{Reason: "token expired"}
	}
	if inv != nil {
		v.remember(key, m.ID, inv, now)
		return nil, inv
	}
	t := newToken(m, token)
	r := result{tok: t, expires: deadline(t.ExpiresAt, now)}
	exp := v.positiveExpiry(r.expires, now)
	if ttlEnd := now.Add(v.cfg.ttl); v.cfg.refreshAhead > 0 && exp.Equal(ttlEnd) {
		// The entry ends with the TTL, not with the token: refresh it ahead.
		r.refreshAt = ttlEnd.Add(-time.Duration(float64(v.cfg.ttl) * v.cfg.refreshAhead))
		r.refreshing = new(atomic.Bool)
	}
	v.cache.Set(key, cache.Entry[result]{Value: r, ID: t.ID, Expires: exp})
	return t, nil
}

// positiveExpiry returns when the cache entry of a token expiring at
// tokenExpiry (zero: never), verified at now, ends.
// The token is served until min(now + TTL, its expiry). When its expiry comes
// first, the entry is kept for the negative TTL beyond it, so that Verify
// refuses the expired token without asking Clerk (Verify checks the token's
// expiry on every hit).
func (v *Verifier) positiveExpiry(tokenExpiry, now time.Time) time.Time {
	exp := now.Add(v.cfg.ttl)
	if !tokenExpiry.IsZero() && tokenExpiry.Before(exp) {
		exp = tokenExpiry.Add(v.cfg.negativeTTL)
	}
	return exp
}

// remember caches a refusal for the negative TTL.
func (v *Verifier) remember(key cache.Key, id string, inv *InvalidTokenError, now time.Time) {
	if v.cfg.negativeTTL > 0 {
		v.cache.Set(key, cache.Entry[result]{Value: result{err: inv}, ID: id, Negative: true, Expires: now.Add(v.cfg.negativeTTL)})
	}
}

// reasonNotFound is the reason given for Clerk's 404.
const reasonNotFound = "token unknown, revoked, expired or not granted to this machine"

// upstreamError maps a failed call to the error every waiter gets. Only
// Clerk's refusal of the token (a 404 with Clerk's error JSON) is cached;
// nothing transient, and no sign of a misconfiguration, ever is.
func (v *Verifier) upstreamError(ctx context.Context, key cache.Key, err error) error {
	var ae *clerkapi.APIError
	if !errors.As(err, &ae) {
		return v.noAnswer(ctx, "m2mauth verifier: clerk unavailable", err)
	}
	clerk := ae.IsClerkError()
	switch s := ae.StatusCode; {
	case s == http.StatusNotFound && clerk:
		inv := &InvalidTokenError{Reason: reasonNotFound, Err: ae}
		v.remember(key, "", inv, v.clock.now())
		return inv
	case (s == http.StatusBadRequest || s == http.StatusUnprocessableEntity) && clerk:
		// Clerk refused the token's form; not cached, as it could also
		// be a change on Clerk's side that a later call would not hit.
		return &InvalidTokenError{Reason: "token rejected by Clerk as malformed", Err: ae}
	case s == http.StatusTooManyRequests || s >= 500 || (s >= 400 && clerk && s != http.StatusUnauthorized && s != http.StatusForbidden):
		// 429, 5xx, and any other 4xx of Clerk's: fail closed, try later.
		v.log.Debug("m2mauth verifier: clerk unavailable", "status", s, "retry_after", ae.RetryAfter, "trace_id", ae.TraceID)
		if v.backoff.open(v.clock.fast(), ae) {
			v.log.Warn("m2mauth verifier: clerk asked to wait; tokens not in the cache are refused without a call until then",
				"status", s, "retry_after", ae.RetryAfter, "max_backoff", v.cfg.maxBackoff, "trace_id", ae.TraceID)
		}
		return v.unavailable(ae.RetryAfter, ae)
	default:
		// 401/403 (Clerk's: our key; another's: not Clerk), a redirect, or a
		// 4xx whose body is not Clerk's error JSON.
		return v.misconfiguredAnswer(ae, endpointVerify)
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
