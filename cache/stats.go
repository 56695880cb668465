package cache

import (
	"sync/atomic"
	"unsafe"
)

// Stats is a snapshot of a Cache's counters.
type Stats struct {
	Hits         uint64 // Get found a live positive entry
	NegativeHits uint64 // Get found a live negative entry
	Misses       uint64 // Get found nothing, or an expired entry
	Entries      int    // entries held now (at most the size)
	IndexedIDs   int    // (ID, key) pairs in the ID index (equal to the entries with an ID once writes settle)
}

// counterStripes is the number of counter sets of a shard. A lookup
// increments the set of its goroutine (see count), so goroutines on different
// cores hitting the same shard seldom write the same cache line.
const counterStripes = 4

// counters is one stripe, alone on its cache line.
type counters struct {
	hits, negHits, misses atomic.Uint64
	_                     [64 - 24]byte
}

// count returns the calling goroutine's counter set of shard s. The set is
// picked from the address of a variable on the goroutine's stack: stable for a
// goroutine (until its stack moves) and distinct between goroutines with high
// probability, at the cost of a shift and a multiply. The shift drops 11
// bits, not more: goroutine stacks start at 2 KB and are often adjacent, so a
// coarser shift put goroutines started together on the same stripe (which
// made BenchmarkGetParallel/cycle slower on two cores than on one). It is only a hint: any
// set is correct, since Stats adds them all up.
func (s *shard[V]) count() *counters {
	var here byte
	h := uint64(uintptr(unsafe.Pointer(&here))>>11) * 0x9E3779B97F4A7C15
	return &s.stats[h>>62&(counterStripes-1)]
}

// Stats returns the cache's counters. Counters are read one by one, so a
// snapshot taken under load is approximate.
func (c *Cache[V]) Stats() Stats {
	var st Stats
	for i := range c.shards {
		for j := range c.shards[i].stats {
			s := &c.shards[i].stats[j]
			st.Hits += s.hits.Load()
			st.NegativeHits += s.negHits.Load()
			st.Misses += s.misses.Load()
		}
	}
	st.Entries = c.Len()
	st.IndexedIDs = c.ids.len()
	return st
}
