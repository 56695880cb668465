package cache

// Stats is a snapshot of a Cache's counters.
type Stats struct {
	Hits         uint64 // Get found a live positive entry
	NegativeHits uint64 // Get found a live negative entry
	Misses       uint64 // Get found nothing, or an expired entry
	Entries      int    // entries held now (at most the size)
	IndexedIDs   int    // (ID, key) pairs in the ID index (equal to the entries with an ID once writes settle)
}

// Stats returns the cache's counters. Counters are read one by one, so a
// snapshot taken under load is approximate.
func (c *Cache[V]) Stats() Stats {
	var st Stats
	for i := range c.shards {
		s := &c.shards[i]
		st.Hits += s.hits.Load()
		st.NegativeHits += s.negHits.Load()
		st.Misses += s.misses.Load()
	}
	st.Entries = c.Len()
	st.IndexedIDs = c.ids.len()
	return st
}
