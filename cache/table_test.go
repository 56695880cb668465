package cache

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// checkIndex fails t unless every shard's read index holds exactly the items
// its LRU holds, its counters match, and a nil slot ends every probe.
func checkIndex(t *testing.T, c *Cache[string]) {
	t.Helper()
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		tab := s.tab.Load()
		inTable := map[*item[string]]bool{}
		tombs, nils := 0, 0
		for j := range tab.slots {
			switch p := tab.slots[j].Load(); {
			case p == nil:
				nils++
			case p == tab.tomb:
				tombs++
			default:
				if inTable[p] {
					t.Errorf("shard %d: item for key %x twice in the read index, want once", i, p.key[:4])
				}
				inTable[p] = true
				if got := tab.find(&p.key, p.hash); got != p {
					t.Errorf("shard %d: find(key %x) = %p, want the stored item %p", i, p.key[:4], got, p)
				}
			}
		}
		if got, want := len(inTable), s.lru.Len(); got != want {
			t.Errorf("shard %d: got %d items in the read index, want %d (the LRU's)", i, got, want)
		}
		for _, k := range s.lru.Keys() {
			it, _ := s.lru.Peek(k)
			if !inTable[it] {
				t.Errorf("shard %d: LRU item for key %x missing from the read index", i, k[:4])
			}
		}
		if s.live != len(inTable) || s.used != s.live+tombs {
			t.Errorf("shard %d: got live %d, used %d; want %d and %d", i, s.live, s.used, len(inTable), len(inTable)+tombs)
		}
		if nils == 0 || nils < len(tab.slots)/4 {
			t.Errorf("shard %d: got %d nil slots of %d, want at least a quarter", i, nils, len(tab.slots))
		}
		s.mu.Unlock()
	}
}

// TestIndexConsistentUnderConcurrency: concurrent Get, Peek, Set, Remove,
// InvalidateID and Purge never make a lookup return another key's entry, and
// leave the read index, the LRU and the ID index in step.
func TestIndexConsistentUnderConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		shards int
	}{
		{"one shard", 16, 1},
		{"sharded", 64, 4},
		{"size 1", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, clk := newCache(t, tc.size, WithShards(tc.shards))
			val := func(i int) string { return fmt.Sprint("v", i) }
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range 3000 {
						i := (g*13 + n*7) % 100
						k := key(i)
						switch n % 11 {
						case 0, 1, 2:
							c.Set(k, Entry[string]{Value: val(i), ID: fmt.Sprint("mt_", i%30), Expires: clk.Now().Add(time.Second)})
						case 3:
							c.Remove(k)
						case 4:
							c.InvalidateID(fmt.Sprint("mt_", i%30))
						case 5:
							if g == 0 && n%500 == 5 {
								c.Purge()
							}
							if g == 1 && n%200 == 5 {
								clk.Advance(300 * time.Millisecond)
							}
						case 6:
							if e, ok := c.Peek(k); ok && e.Value != val(i) {
								t.Errorf("Peek(key %d) = %q, want %q", i, e.Value, val(i))
							}
						default:
							if e, ok := c.Get(k); ok && e.Value != val(i) {
								t.Errorf("Get(key %d) = %q, want %q", i, e.Value, val(i))
							}
						}
					}
				}()
			}
			wg.Wait()
			checkIndex(t, c)
			st := c.Stats()
			if st.Entries > tc.size {
				t.Errorf("got %d entries, want at most %d", st.Entries, tc.size)
			}
			if st.IndexedIDs != st.Entries {
				t.Errorf("got %d indexed IDs for %d entries (all with IDs), want equal", st.IndexedIDs, st.Entries)
			}
			c.Purge()
			checkIndex(t, c)
		})
	}
}

// TestIndexRebuild: many more insertions and removals than slots keep the
// read index exact (tombstones are reclaimed by rebuilds).
func TestIndexRebuild(t *testing.T) {
	c, _ := newCache(t, 8, WithShards(1))
	exp := t0.Add(time.Hour)
	slots := len(c.shards[0].tab.Load().slots)
	for i := range 50 * slots {
		c.Set(key(i), Entry[string]{Value: fmt.Sprint(i), Expires: exp})
		if i%3 == 0 {
			c.Remove(key(i - 1))
		}
	}
	checkIndex(t, c)
	if got := len(c.shards[0].tab.Load().slots); got != slots {
		t.Errorf("got %d slots after churn, want %d (the size is fixed by the capacity)", got, slots)
	}
	last := 50*slots - 1
	if e, ok := c.Get(key(last)); !ok || e.Value != fmt.Sprint(last) {
		t.Errorf("Get(last key) = %+v, %v; want value %d", e, ok, last)
	}
}
