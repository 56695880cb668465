package verifier

import (
	"context"
	"fmt"

	"github.com/m2mauth/m2mauth/cache"
	"github.com/m2mauth/m2mauth/clerkapi"
)

// flight is the shared call of a cold token, run once for all its concurrent
// callers on a context detached from theirs: the cache again (recheck), then
// resolve and store. Its answer is every waiter's. The call to Clerk, if any,
// is charged to src (see admission.begin).
func (v *Verifier) flight(parent context.Context, key cache.Key, token string, src *budget) (*Token, error) {
	if tok, err, ok := v.recheck(key); ok {
		return tok, err
	}
	if v.shared != nil && !v.isLocalJWT(token) {
		if tok, err, ok := v.sharedFlight(parent, key, token, src); ok { // cluster-wide (shared.go)
			return tok, err
		}
	}
	d := v.resolve(parent, token, src)
	v.store(key, d, v.now())
	return d.result()
}

// resolve is stage 7: it finds out about a cold token, storing nothing. A JWT
// verified with a Clerk secret key is checked here (jwt.go); any other token
// goes to Clerk's verify endpoint (resolveClerk).
func (v *Verifier) resolve(parent context.Context, token string, src *budget) verdict {
	if v.isLocalJWT(token) {
		return v.resolveJWT(parent, token)
	}
	return v.resolveClerk(parent, token, src)
}

// resolveClerk asks Clerk's verify endpoint about token, once the flight is
// admitted (back-off gate, budgets, cap on calls in flight, breaker), within
// WithTimeout and cancelled by Close.
func (v *Verifier) resolveClerk(parent context.Context, token string, src *budget) verdict {
	// Clerk may have asked us to wait since the caller's admission.
	now := v.now()
	if err := v.backoff.refuse(now); err != nil {
		return verdict{err: err}
	}
	end, err := v.admit.begin(v.closing, now, src)
	if err != nil {
		return verdict{err: err}
	}
	parent, observed := v.startCall(parent, EndpointVerify) // WithObserver
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
	var d verdict
	if err != nil {
		d = v.upstreamError(ctx, err)
	} else {
		d = v.judge(m, token)
	}
	_, derr := d.result()
	v.health.sawVerify(derr)
	observed(err, derr)
	return d
}

// judge checks Clerk's 200 answer: a token Clerk reports as revoked or
// expired, or whose expiry has passed on our clock, is refused; an answer
// that is not a token object is a failure, never a verdict.
func (v *Verifier) judge(m *clerkapi.M2MToken, token string) verdict {
	if m.ID == "" || m.Subject == "" || (m.Object != "" && m.Object != clerkapi.ObjectM2MToken) {
		v.log.Debug("m2mauth verifier: clerk answered 200 with an unexpected object")
		return verdict{err: &UnavailableError{Err: fmt.Errorf("%w: not an M2M token object", clerkapi.ErrMalformedResponse)}}
	}
	now := v.now()
	switch {
	case m.Revoked:
		return verdict{refused: &InvalidTokenError{Reason: "token revoked"}, id: m.ID}
	case m.Expired, !m.Expiration.IsZero() && !now.Before(m.Expiration.Time):
		return verdict{refused: &InvalidTokenError{Reason: "token expired"}, id: m.ID}
	}
	t := newToken(m, token)
	return verdict{tok: t, expires: t.ExpiresAt}
}
