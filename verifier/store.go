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

// store is the last stage of a miss: it caches the verdict, verified at now,
// and hands it to the shared cache (if any, unless the token was verified
// locally: any replica does that as cheaply), which writes it and releases
// the flight's lock (t; nil: a refresh, which holds none).
// A valid token is served until min(now + TTL, its expiry); when the TTL ends
// first, the entry is refreshed ahead (Limits.RefreshAhead) unless it was
// verified locally. When the token's expiry comes first, the entry is kept
// for the negative TTL beyond it, so that the expired token is refused
// without a call. A refusal is remembered for the negative TTL; errors are
// never stored.
func (v *Verifier) store(key cache.Key, d verdict, now time.Time, t *turn) {
	e, ok := v.entry(d, now)
	if ok {
		v.cache.Set(key, e)
	}
	if v.shared != nil && !d.local {
		v.shared.store(key, e, ok, now, t)
	}
}

// entry returns the cache entry for d at now; ok is false when there is
// nothing to remember.
func (v *Verifier) entry(d verdict, now time.Time) (e cache.Entry[result], ok bool) {
	switch {
	case d.refused != nil && v.cfg.negativeTTL > 0:
		return cache.Entry[result]{Value: result{err: d.refused}, ID: d.id, Negative: true,
			Expires: now.Add(v.cfg.negativeTTL)}, true
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
		return cache.Entry[result]{Value: r, ID: d.tok.ID, Expires: exp}, true
	}
	return e, false
}
