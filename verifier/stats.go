package verifier

import "sync/atomic"

// Stats is a snapshot of a Verifier's counters since New.
type Stats struct {
	Hits          uint64 // Verify found a positive cache entry (a token expired since is refused locally)
	NegativeHits  uint64 // Verify answered from a negative cache entry
	Misses        uint64 // Verify found no live cache entry
	UpstreamCalls uint64 // HTTP calls to Clerk's verify endpoint, retries included
	Retries       uint64 // quick retries after a connection-level failure
	SharedWaits   uint64 // misses answered by another caller's call (singleflight)

	// Errors returned by Verify, by kind.
	Invalid       uint64 // ErrInvalidToken: local check, Clerk's refusal, negative hit
	Unavailable   uint64 // ErrUnavailable (closed Verifier included)
	Misconfigured uint64 // ErrMisconfigured
	Canceled      uint64 // the caller's context ended first

	// BackoffRefusals counts misses refused by the back-off gate, without a
	// call to Clerk, because Clerk had asked to wait (see WithMaxBackoff). They
	// are counted in Unavailable too.
	BackoffRefusals uint64

	// LocalJWTChecks counts JWT-format tokens verified locally (WithLocalJWT):
	// one per cold token, valid or not; a cache hit is not one.
	LocalJWTChecks uint64
	// JWKSFetches counts calls to Clerk's GET /jwks, failed ones and
	// readiness probes (Ready) included.
	JWKSFetches uint64

	// Refusals of admission, without a call to Clerk (see WithSourceBudget
	// and the options after it). RateLimited are not counted in Unavailable
	// (they are the caller's doing: a 429); the two others are.
	RateLimited      uint64 // a source over its budget (ErrRateLimited)
	OverloadRefusals uint64 // no slot among the calls in flight in time, or the overall budget spent (ErrOverloaded)
	BreakerRefusals  uint64 // the breaker was open (ErrBreakerOpen)

	// Refreshes counts background refreshes run (see WithRefreshAhead), one
	// flight each; RefreshFailures those of them that got no verdict (refused
	// by admission, Clerk unavailable): their entries stay until their TTL
	// ends.
	Refreshes       uint64
	RefreshFailures uint64

	InFlight     int    // calls to Clerk's verify endpoint in flight now
	BreakerState string // "closed", "open", "half-open", or "off"

	CacheEntries int // entries in the cache now

	// The shared cache (WithSharedCache); all zero without one. Misses and
	// Hits above are those of the Verifier's own cache.
	SharedHits     uint64 // entries found there (and copied here)
	SharedMisses   uint64 // nothing there
	ClusterWaits   uint64 // misses answered by another replica's call to Clerk (it held the lock)
	SharedErrors   uint64 // calls to it that failed (down, slow): each fell back to this replica alone
	SharedRejected uint64 // entries or messages there that did not authenticate: ignored
	SharedPurges   uint64 // (re)subscriptions, each of which emptied the own cache
}

// counters are the Verifier's own counters. Hits and misses live in the
// cache; the ones here are written on the miss and error paths only.
type counters struct {
	upstream, retries, shared                     atomic.Uint64
	invalid, unavailable, misconfigured, canceled atomic.Uint64
	backoff                                       atomic.Uint64
	localJWT, jwks                                atomic.Uint64
	rateLimited, overloaded, breaker              atomic.Uint64
	refreshes, refreshFailures                    atomic.Uint64
}

// Stats returns the Verifier's counters. They are read one by one, so a
// snapshot taken under load is approximate.
func (v *Verifier) Stats() Stats {
	cs := v.cache.Stats()
	st := Stats{
		Hits:            cs.Hits,
		NegativeHits:    cs.NegativeHits,
		Misses:          cs.Misses,
		UpstreamCalls:   v.stats.upstream.Load(),
		Retries:         v.stats.retries.Load(),
		SharedWaits:     v.stats.shared.Load(),
		Invalid:         v.stats.invalid.Load(),
		Unavailable:     v.stats.unavailable.Load(),
		Misconfigured:   v.stats.misconfigured.Load(),
		Canceled:        v.stats.canceled.Load(),
		BackoffRefusals: v.stats.backoff.Load(),
		LocalJWTChecks:  v.stats.localJWT.Load(),
		JWKSFetches:     v.stats.jwks.Load(),

		RateLimited:      v.stats.rateLimited.Load(),
		OverloadRefusals: v.stats.overloaded.Load(),
		BreakerRefusals:  v.stats.breaker.Load(),
		Refreshes:        v.stats.refreshes.Load(),
		RefreshFailures:  v.stats.refreshFailures.Load(),
		InFlight:         v.admit.inFlight(),
		BreakerState:     v.admit.breaker.stateName(),

		CacheEntries: cs.Entries,
	}
	if sh := v.shared; sh != nil {
		st.SharedHits, st.SharedMisses, st.ClusterWaits = sh.hits.Load(), sh.misses.Load(), sh.waits.Load()
		st.SharedErrors, st.SharedRejected, st.SharedPurges = sh.errs.Load(), sh.rejected.Load(), sh.purges.Load()
	}
	return st
}
