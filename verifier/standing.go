package verifier

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/m2mauth/m2mauth/cache"
)

// Good standing is what the Verifier remembers of who and what proved valid
// a moment ago, so that the calls worth making keep a share of the overall
// budget (share.go) whatever a flood sends:
//
//   - a source (the request's address, as the middleware names it) is in good
//     standing for Limits.StandingTTL after a miss of it ended with a valid
//     token — one Clerk accepted, or another replica did (the shared cache),
//     or a JWT verified locally — and loses it at the first miss of it that
//     ends with a refused token. Cache hits neither give nor take it (they
//     are free, and the hit path stays as it is). At most Limits.MaxSources
//     sources are kept, the oldest grant forgotten first; only a valid token
//     gets a source in, so a flood of addresses cannot push one out.
//   - a token key (the SHA-256 of a token, never the token) that was valid
//     before a purge is a refill: purgeLocal retires the cache's entries
//     rather than dropping them (cache.Cache.Retire), so the retired entry
//     is both what keeps the token from being served unverified and the
//     memory that it was valid, bounded by the cache's size.
//
// A source that presents one valid token and then junk gets, per valid
// token, at most its own per-source burst of calls on the reserved share
// (those admitted before the first refusal comes back); after that it is one
// more source outside good standing, with its turn in the unreserved share.
type standing struct {
	lru *simplelru.LRU[string, time.Time] // source → in good standing until; the oldest grant first
	ttl time.Duration
}

func newStanding(max int, ttl time.Duration) *standing {
	l, _ := simplelru.NewLRU[string, time.Time](max, nil) // max >= 1: validated by Limits.resolve
	return &standing{lru: l, ttl: ttl}
}

// has reports whether source is in good standing at now.
func (s *standing) has(source string, now time.Time) bool {
	until, ok := s.lru.Peek(source)
	return ok && now.Before(until)
}

// settle records the outcome of a miss of source: a valid token grants good
// standing until now + ttl, a refused one ends it; other errors (Clerk
// unavailable, admission) say nothing of the source.
func (s *standing) settle(source string, err error, now time.Time) {
	switch {
	case err == nil:
		s.lru.Add(source, now.Add(s.ttl)) // to the front: the order of grants is the order of expiry
		s.expire(now)
	case errors.Is(err, ErrInvalidToken):
		s.lru.Remove(source)
	}
}

// expire forgets the sources whose good standing has ended at now.
func (s *standing) expire(now time.Time) {
	for {
		src, until, ok := s.lru.GetOldest()
		if !ok || now.Before(until) {
			return
		}
		s.lru.Remove(src)
	}
}

// count returns the number of sources in good standing at now.
func (s *standing) count(now time.Time) int {
	s.expire(now)
	return s.lru.Len()
}

// purgeInterval rate-limits what purges may cost others: the first
// (re)subscription in any purgeInterval grants its refills the reserved
// share (and waiting for it); one within it still retires every entry (each
// is verified again before it is served: safety is not rate-limited) and its
// refills are still charged to no source, but they get no reserved share:
// they compete for the unreserved one, in their source's turn. So a
// subscription that flaps, on a Redis that also loses its data, cannot make
// refills crowd out the new tokens of sources in good standing more than
// once per interval.
const purgeInterval = 10 * time.Second

// refillKind says whether a miss is a refill, and of which purge.
type refillKind uint8

const (
	refillNone    refillKind = iota
	refillGranted            // retired by a purge that granted the reserved share
	refillLate               // retired by a purge within purgeInterval of that one
)

// purges is the Verifier's side of its purges (purgeLocal): which retired
// entries are refills.
type purges struct {
	mu        sync.Mutex    // orders purgeLocal calls (the subscription's goroutine makes them)
	lastGrant time.Time     // when a purge last granted the reserved share to its refills
	refillGen atomic.Uint64 // retired entries stored below this generation have it
	any       atomic.Bool   // a purge retired entries
}

// purgeLocal is called when the shared cache's subscription is (re)established:
// revocations may have been missed meanwhile, so no entry cached before now
// may be served again unverified. It retires the whole cache at once (O(1)):
// a retired entry is a miss, answered by the shared cache if it still holds
// the entry (a revocation deletes it there before it is broadcast) or else by
// Clerk, and stored fresh. Nothing is dropped: the retired entries remember
// which tokens were valid, so that their misses are refills, charged to no
// source (and on the reserved share, for the first purge in any
// purgeInterval).
func (v *Verifier) purgeLocal() {
	empty := v.cache.Len() == 0 // the first subscription, at New
	gen := v.cache.Retire()
	if empty {
		return
	}
	now := v.now()
	v.purges.mu.Lock()
	defer v.purges.mu.Unlock()
	if v.purges.lastGrant.IsZero() || now.Sub(v.purges.lastGrant) >= purgeInterval {
		v.purges.lastGrant = now
		v.purges.refillGen.Store(gen)
	}
	v.purges.any.Store(true)
}

// refill says whether key's miss is a refill (its entry was retired by a
// purge), and whether that purge granted the reserved share.
func (v *Verifier) refill(key cache.Key) refillKind {
	if !v.purges.any.Load() {
		return refillNone // no purge yet: spare the cache a lookup
	}
	gen, ok := v.cache.Retired(key)
	switch {
	case !ok:
		return refillNone
	case gen < v.purges.refillGen.Load():
		return refillGranted
	}
	return refillLate
}
