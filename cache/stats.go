package cache

// Stats is a snapshot of a Cache's counters.
type Stats struct {
	Hits         uint64 // Get found a live positive entry
	NegativeHits uint64 // Get found a live negative entry
	Misses       uint64 // Get found nothing, or an expired entry
	Entries      int    // entries held now, both parts (at most the size)
}

// Stats returns the cache's counters. Shards are read one after the other, so
// a snapshot taken under load is approximate.
func (c *Cache[V]) Stats() Stats {
	var st Stats
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Hits += s.hits
		st.NegativeHits += s.negHits
		st.Misses += s.misses
		st.Entries += s.pos.Len()
		if s.neg != nil {
			st.Entries += s.neg.Len()
		}
		s.mu.Unlock()
	}
	return st
}
