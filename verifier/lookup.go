package verifier

import (
	"errors"
	"time"

	"github.com/m2mauth/m2mauth/cache"
)

// lookup is stage 3 of Verify: what the Verifier's own cache knows of key
// at now (the shared cache, if any, is read in the flight: stage 4). A positive entry gives its Token (and, late in
// its TTL, starts one background refresh: see Limits.RefreshAhead); a negative
// one, or a positive one whose token has expired since, gives the reason it
// is invalid. ok is false on a miss.
//
// A hit does not allocate.
func (v *Verifier) lookup(key cache.Key, token string, now time.Time) (tok *Token, err error, ok bool) {
	e, ok := v.cache.GetAt(key, now)
	if !ok {
		return nil, nil, false
	}
	r := &e.Value
	if !e.Negative && r.valid(now) && !r.refreshAt.IsZero() && !now.Before(r.refreshAt) &&
		r.refreshing.CompareAndSwap(false, true) {
		v.refresh(key, token, r.tok.Kind)
	}
	tok, err = r.answer(e.Negative, now)
	return tok, err, true
}

// recheck is the shared call's first look: a call for key may have ended
// between the caller's miss and the start of this flight, and then its answer
// is in the cache. It neither counts nor reorders the entry.
func (v *Verifier) recheck(key cache.Key) (tok *Token, err error, ok bool) {
	e, ok := v.cache.Peek(key)
	if !ok {
		return nil, nil, false
	}
	tok, err = e.Value.answer(e.Negative, v.now())
	return tok, err, true
}

// answer is what a cache entry says at now: its Token, or why the token is
// invalid. A positive entry outlives its token by up to the negative TTL, so
// that an expired token is refused here, without a call to Clerk.
func (r *result) answer(negative bool, now time.Time) (*Token, error) {
	switch {
	case negative:
		return nil, r.err
	case !r.valid(now):
		return nil, errTokenExpired
	}
	return r.tok, nil
}

// refresh verifies a cached token again in the background (refresh-ahead,
// see Limits.RefreshAhead), sharing the flight of any concurrent miss of the same
// token. It returns at once. What Clerk answers replaces the entry: a new
// positive entry, or a refusal that makes the token invalid from then on. A
// refresh that gets no verdict leaves the entry until it expires. The
// goroutine is the Verifier's: Close cancels its call and waits for it.
func (v *Verifier) refresh(key cache.Key, token string, kind Kind) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed.Load() {
		return
	}
	v.refreshes.Add(1)
	go func() {
		defer v.refreshes.Done()
		_, err, _ := v.flights.Do(string(key[:]), func() (any, error) {
			v.stats.refreshes.Add(1)
			d := v.resolveClerk(v.closing, token, kind, nil)
			v.store(key, d, v.now(), nil)
			return d.result()
		})
		if err != nil && !errors.Is(err, ErrInvalidToken) {
			v.stats.refreshFailures.Add(1)
		}
	}()
}
