package verifier

import (
	"sync/atomic"
	"time"

	"github.com/m2mauth/m2mauth/cache"
)

// verdict is what resolve found out about a token, for store and for every
// waiter of the flight: a valid token, a refusal to remember, or an error that
// is never cached (transient failures, misconfigurations, a refusal that a
// later call might not repeat).
type verdict struct {
	tok     *Token
	expires time.Time // when tok stops being valid (zero: never): its expiry, plus the leeway for a local JWT
	local   bool      // verified here (a JWT), not by Clerk: nothing to refresh ahead

	refused *InvalidTokenError // remembered for the negative TTL
	id      string             // the refused token's ID, when known (InvalidateID)

	err error // returned, never stored
}

// result returns the verdict as Verify's answer.
func (d verdict) result() (*Token, error) {
	switch {
	case d.refused != nil:
		return nil, d.refused
	case d.err != nil:
		return nil, d.err
	}
	return d.tok, nil
}

// store is the last stage of a miss: it caches the verdict, verified at now.
// A valid token is served until min(now + TTL, its expiry); when the TTL ends
// first, the entry is refreshed ahead (Limits.RefreshAhead) unless it was
// verified locally. When the token's expiry comes first, the entry is kept
// for the negative TTL beyond it, so that the expired token is refused
// without a call. A refusal is remembered for the negative TTL; errors are
// never stored.
func (v *Verifier) store(key cache.Key, d verdict, now time.Time) {
	switch {
	case d.refused != nil:
		if v.cfg.negativeTTL > 0 {
			v.remember(key, cache.Entry[result]{Value: result{err: d.refused}, ID: d.id, Negative: true,
				Expires: now.Add(v.cfg.negativeTTL)}, d.local, now)
		}
	case d.tok != nil:
		r := result{tok: d.tok, expires: deadline(d.expires, now)}
		ttlEnd := now.Add(v.cfg.ttl)
		exp := ttlEnd
		if !r.expires.IsZero() && r.expires.Before(exp) {
			exp = r.expires.Add(v.cfg.negativeTTL)
		} else if v.cfg.limits.RefreshAhead > 0 && !d.local {
			r.refreshAt = ttlEnd.Add(-time.Duration(float64(v.cfg.ttl) * v.cfg.limits.RefreshAhead))
			r.refreshing = new(atomic.Bool)
		}
		v.remember(key, cache.Entry[result]{Value: r, ID: d.tok.ID, Expires: exp}, d.local, now)
	}
}

// remember puts e in the cache, and in the shared cache (if any) unless the
// token was verified locally: any replica does that as cheaply.
func (v *Verifier) remember(key cache.Key, e cache.Entry[result], local bool, now time.Time) {
	v.cache.Set(key, e)
	if v.shared != nil && !local {
		v.shared.store(key, e, now)
	}
}
