package cache

import (
	"math/rand/v2"
	"sync/atomic"
)

// Stats is a snapshot of a Cache's counters.
type Stats struct {
	Hits         uint64 // Get found a live positive entry
	NegativeHits uint64 // Get found a live negative entry
	Misses       uint64 // Get found nothing, or an expired entry
	Entries      int    // entries held now (at most the size)
	IndexedIDs   int    // (ID, key) pairs in the ID index (equal to the entries with an ID once writes settle)
}

// counterStripes is the number of counter sets. Each Get increments one set
// picked at random, so goroutines on different cores seldom write the same
// cache line even when they hit the same entry.
const counterStripes = 16

// counters is one stripe, alone on its cache line.
type counters struct {
	hits, negHits, misses atomic.Uint64
	_                     [64 - 24]byte
}

// count returns a random stripe (math/rand/v2's per-thread generator: no lock,
// no allocation).
func (c *Cache[V]) count() *counters {
	return &c.counters[rand.Uint32()%counterStripes]
}

// Stats returns the cache's counters. Counters are read one by one, so a
// snapshot taken under load is approximate.
func (c *Cache[V]) Stats() Stats {
	var st Stats
	for i := range c.counters {
		s := &c.counters[i]
		st.Hits += s.hits.Load()
		st.NegativeHits += s.negHits.Load()
		st.Misses += s.misses.Load()
	}
	st.Entries = c.Len()
	st.IndexedIDs = c.ids.len()
	return st
}
