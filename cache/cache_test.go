package cache

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)

// fakeClock is a minimal settable clock (the cache must not import clerktest).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func key(i int) Key { return sha256.Sum256(fmt.Appendf(nil, "k%d", i)) }

func newCache(t testing.TB, size int, opts ...Option) (*Cache[string], *fakeClock) {
	t.Helper()
	clk := &fakeClock{now: t0}
	c, err := New[string](size, append([]Option{WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, clk
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name       string
		size       int
		opts       []Option
		wantErr    bool
		wantShards int
	}{
		{"size 0", 0, nil, true, 0},
		{"negative size", -1, nil, true, 0},
		{"shards not a power of two", 10, []Option{WithShards(3)}, true, 0},
		{"zero shards", 10, []Option{WithShards(0)}, true, 0},
		{"too many shards", 10, []Option{WithShards(2048)}, true, 0},
		{"nil clock", 10, []Option{WithClock(nil)}, true, 0},
		{"shards lowered to size", 3, []Option{WithShards(16)}, false, 2},
		{"one entry", 1, []Option{WithShards(16)}, false, 1},
		{"explicit shards", 1000, []Option{WithShards(8)}, false, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New[int](tc.size, tc.opts...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("New(%d) error = %v, want error: %v", tc.size, err, tc.wantErr)
			}
			if err == nil && c.Shards() != tc.wantShards {
				t.Errorf("got %d shards, want %d", c.Shards(), tc.wantShards)
			}
		})
	}
}

func TestDefaultShards(t *testing.T) {
	c, err := New[int](10000)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Shards(); n < 16 || n > 256 || n&(n-1) != 0 {
		t.Errorf("got %d default shards, want a power of two in [16, 256]", n)
	}
}

func TestExpiryPerEntry(t *testing.T) {
	c, clk := newCache(t, 100)
	c.Set(key(1), Entry[string]{Value: "a", Expires: t0.Add(10 * time.Second)})
	c.Set(key(2), Entry[string]{Value: "b", Expires: t0.Add(30 * time.Second)})
	c.Set(key(3), Entry[string]{Negative: true, Expires: t0.Add(20 * time.Second)})

	for _, step := range []struct {
		name    string
		at      time.Duration
		present [3]bool
	}{
		{"at start", 0, [3]bool{true, true, true}},
		{"just before the first expiry", 10*time.Second - time.Nanosecond, [3]bool{true, true, true}},
		{"at the first expiry", 10 * time.Second, [3]bool{false, true, true}},
		{"at the negative expiry", 20 * time.Second, [3]bool{false, true, false}},
		{"at the last expiry", 30 * time.Second, [3]bool{false, false, false}},
	} {
		clk.mu.Lock()
		clk.now = t0.Add(step.at)
		clk.mu.Unlock()
		for i, want := range step.present {
			if _, got := c.Get(key(i + 1)); got != want {
				t.Errorf("%s: Get(key %d) found = %v, want %v", step.name, i+1, got, want)
			}
		}
	}
	if n := c.Len(); n != 0 {
		t.Errorf("got Len %d after every entry expired and was read, want 0", n)
	}
}

func TestGetReturnsEntry(t *testing.T) {
	c, _ := newCache(t, 10)
	want := Entry[string]{Value: "v", ID: "mt_1", Expires: t0.Add(time.Minute)}
	c.Set(key(1), want)
	got, ok := c.Get(key(1))
	if !ok || got != want {
		t.Fatalf("Get = %+v, %v; want %+v, true", got, ok, want)
	}
	neg := Entry[string]{Negative: true, Expires: t0.Add(time.Second)}
	c.Set(key(2), neg)
	if got, ok := c.Get(key(2)); !ok || !got.Negative {
		t.Fatalf("Get(negative) = %+v, %v; want a negative entry", got, ok)
	}
	st := c.Stats()
	if st.Hits != 1 || st.NegativeHits != 1 || st.Misses != 0 {
		t.Errorf("got stats %+v, want 1 hit, 1 negative hit, 0 misses", st)
	}
}

func TestSetExpiredRemoves(t *testing.T) {
	c, _ := newCache(t, 10)
	c.Set(key(1), Entry[string]{Value: "v", ID: "mt_1", Expires: t0.Add(time.Minute)})
	c.Set(key(1), Entry[string]{Value: "v", ID: "mt_1", Expires: t0})
	if _, ok := c.Get(key(1)); ok {
		t.Error("Get found an entry after Set with an expiry in the past, want none")
	}
	if st := c.Stats(); st.Entries != 0 || st.IndexedIDs != 0 {
		t.Errorf("got %d entries and %d indexed IDs, want 0 and 0", st.Entries, st.IndexedIDs)
	}
}

func TestLRUBound(t *testing.T) {
	c, _ := newCache(t, 4, WithShards(1))
	exp := t0.Add(time.Hour)
	for i := range 4 {
		c.Set(key(i), Entry[string]{Value: fmt.Sprint(i), Expires: exp})
	}
	c.Get(key(0)) // 0 becomes the most recently used; 1 is now the oldest
	c.Set(key(4), Entry[string]{Value: "4", Expires: exp})
	for i, want := range []bool{true, false, true, true, true} {
		if _, got := c.Get(key(i)); got != want {
			t.Errorf("Get(key %d) found = %v, want %v", i, got, want)
		}
	}
	if n := c.Len(); n != 4 {
		t.Errorf("got Len %d, want 4", n)
	}
}

func TestShardsBoundTotal(t *testing.T) {
	for _, size := range []int{1, 7, 100, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c, _ := newCache(t, size, WithShards(16))
			for i := range 20 * size {
				c.Set(key(i), Entry[string]{ID: fmt.Sprint("id", i), Expires: t0.Add(time.Hour)})
			}
			if n := c.Len(); n > size {
				t.Errorf("got Len %d, want at most %d", n, size)
			}
			if n := c.Len(); n < size*3/4 {
				t.Errorf("got Len %d after %d inserts, want close to %d (shards unbalanced?)", n, 20*size, size)
			}
			if st := c.Stats(); st.IndexedIDs != st.Entries {
				t.Errorf("got %d indexed IDs for %d entries, want equal (evictions must clean the index)", st.IndexedIDs, st.Entries)
			}
		})
	}
}

func TestShardsSpread(t *testing.T) {
	c, _ := newCache(t, 1<<12, WithShards(16))
	for i := range 1 << 12 {
		c.Set(key(i), Entry[string]{Expires: t0.Add(time.Hour)})
	}
	for i := range c.shards {
		if n := c.shards[i].lru.Len(); n < 128 {
			t.Errorf("shard %d holds %d of 4096 keys, want about 256", i, n)
		}
	}
}

func TestInvalidateID(t *testing.T) {
	c, _ := newCache(t, 100)
	exp := t0.Add(time.Hour)
	c.Set(key(1), Entry[string]{Value: "a", ID: "mt_a", Expires: exp})
	c.Set(key(2), Entry[string]{Value: "a2", ID: "mt_a", Expires: exp}) // a second value with the same ID
	c.Set(key(3), Entry[string]{Value: "b", ID: "mt_b", Expires: exp})

	if n := c.InvalidateID("mt_a"); n != 2 {
		t.Errorf("InvalidateID(mt_a) removed %d, want 2", n)
	}
	if n := c.InvalidateID("mt_a"); n != 0 {
		t.Errorf("second InvalidateID(mt_a) removed %d, want 0", n)
	}
	if n := c.InvalidateID(""); n != 0 {
		t.Errorf("InvalidateID(\"\") removed %d, want 0", n)
	}
	for i, want := range []bool{false, false, true} {
		if _, got := c.Get(key(i + 1)); got != want {
			t.Errorf("Get(key %d) found = %v, want %v", i+1, got, want)
		}
	}
	if st := c.Stats(); st.IndexedIDs != 1 {
		t.Errorf("got %d indexed IDs, want 1", st.IndexedIDs)
	}
}

func TestIndexFollowsReplacement(t *testing.T) {
	c, _ := newCache(t, 10)
	c.Set(key(1), Entry[string]{Value: "a", ID: "mt_a", Expires: t0.Add(time.Hour)})
	c.Set(key(1), Entry[string]{Negative: true, Expires: t0.Add(time.Second)}) // e.g. revoked
	if st := c.Stats(); st.IndexedIDs != 0 {
		t.Errorf("got %d indexed IDs after replacing the entry with one without ID, want 0", st.IndexedIDs)
	}
	if n := c.InvalidateID("mt_a"); n != 0 {
		t.Errorf("InvalidateID removed %d entries, want 0", n)
	}
}

func TestIndexCleanedOnEviction(t *testing.T) {
	c, clk := newCache(t, 10, WithShards(2))
	for i := range 1000 {
		c.Set(key(i), Entry[string]{ID: fmt.Sprint("mt_", i), Expires: t0.Add(time.Second)})
	}
	st := c.Stats()
	if st.Entries != 10 || st.IndexedIDs != 10 {
		t.Fatalf("got %d entries, %d indexed IDs; want 10 and 10", st.Entries, st.IndexedIDs)
	}
	clk.Advance(time.Second)
	for i := range 1000 {
		c.Get(key(i)) // expired entries are removed when read
	}
	if st := c.Stats(); st.Entries != 0 || st.IndexedIDs != 0 {
		t.Errorf("got %d entries, %d indexed IDs after expiry; want 0 and 0", st.Entries, st.IndexedIDs)
	}
	c.Set(key(1), Entry[string]{ID: "mt_1", Expires: t0.Add(time.Hour)})
	c.Purge()
	if st := c.Stats(); st.Entries != 0 || st.IndexedIDs != 0 {
		t.Errorf("got %d entries, %d indexed IDs after Purge; want 0 and 0", st.Entries, st.IndexedIDs)
	}
}

func TestConcurrentUse(t *testing.T) {
	c, clk := newCache(t, 64, WithShards(4))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := key((g*7 + i) % 200)
				switch i % 5 {
				case 0, 1:
					c.Set(k, Entry[string]{Value: "v", ID: fmt.Sprint("mt_", i%50), Expires: clk.Now().Add(time.Second)})
				case 2:
					c.Remove(k)
				case 3:
					c.InvalidateID(fmt.Sprint("mt_", i%50))
				default:
					if i%100 == 4 {
						clk.Advance(100 * time.Millisecond)
					}
					c.Get(k)
				}
			}
		}()
	}
	wg.Wait()
	st := c.Stats()
	if st.Entries > 64 {
		t.Errorf("got %d entries, want at most 64", st.Entries)
	}
	if st.IndexedIDs != st.Entries {
		t.Errorf("got %d indexed IDs for %d entries (all with IDs), want equal", st.IndexedIDs, st.Entries)
	}
}

func TestGetDoesNotAllocate(t *testing.T) {
	c, _ := newCache(t, 10)
	k := key(1)
	c.Set(k, Entry[string]{Value: "v", ID: "mt_1", Expires: t0.Add(time.Hour)})
	if n := testing.AllocsPerRun(1000, func() { c.Get(k) }); n != 0 {
		t.Errorf("Get hit allocates %v times, want 0", n)
	}
	miss := key(2)
	if n := testing.AllocsPerRun(1000, func() { c.Get(miss) }); n != 0 {
		t.Errorf("Get miss allocates %v times, want 0", n)
	}
}

func TestHitProtectsEntry(t *testing.T) {
	const size = 40
	c, _ := newCache(t, size, WithShards(1))
	exp := t0.Add(time.Hour)
	for i := range size {
		c.Set(key(i), Entry[string]{Expires: exp})
	}
	// Entry 0 is the oldest; a hit must protect it for at least ¾ of the
	// capacity of later insertions.
	if _, ok := c.Get(key(0)); !ok {
		t.Fatal("Get(key 0) found nothing, want the entry")
	}
	for i := size; i < size+size*3/4; i++ {
		c.Set(key(i), Entry[string]{Expires: exp})
	}
	if _, ok := c.Get(key(0)); !ok {
		t.Errorf("entry hit before %d insertions into a cache of %d was evicted, want it kept", size*3/4, size)
	}
	if _, ok := c.Get(key(1)); ok {
		t.Error("the least recently used entry survived, want it evicted")
	}
	// Repeated hits on a recent entry do not move it (no lock taken).
	s := &c.shards[0]
	before := s.seq.Load()
	for range 10 {
		c.Get(key(size + size*3/4 - 1)) // the last inserted
	}
	if got := s.seq.Load(); got != before {
		t.Errorf("hits on a recent entry moved the LRU %d times, want 0", got-before)
	}
}

func TestPeek(t *testing.T) {
	c, clk := newCache(t, 10)
	c.Set(key(1), Entry[string]{Value: "v", Expires: t0.Add(time.Second)})
	if e, ok := c.Peek(key(1)); !ok || e.Value != "v" {
		t.Errorf("Peek = %+v, %v; want the entry", e, ok)
	}
	if _, ok := c.Peek(key(2)); ok {
		t.Error("Peek(absent key) found an entry, want none")
	}
	clk.Advance(time.Second)
	if _, ok := c.Peek(key(1)); ok {
		t.Error("Peek found an expired entry, want none")
	}
	if st := c.Stats(); st.Hits+st.Misses != 0 {
		t.Errorf("got %d hits and %d misses after Peeks, want none counted", st.Hits, st.Misses)
	}
}

func TestShardLayout(t *testing.T) {
	if n := unsafe.Sizeof(shard[string]{}); n%64 != 0 {
		t.Errorf("shard is %d bytes, want a multiple of 64 (one cache line per part)", n)
	}
	if off := unsafe.Offsetof(shard[string]{}.tab); off%64 != 0 {
		t.Errorf("shard.tab at offset %d, want it to start a cache line", off)
	}
	if n := unsafe.Sizeof(counters{}); n != 64 {
		t.Errorf("counters stripe is %d bytes, want 64", n)
	}
}

// TestHotItem: the lock-free hit path never serves an entry after Remove,
// Set, Purge, InvalidateID or eviction has returned.
func TestHotItem(t *testing.T) {
	exp := t0.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		change func(c *Cache[string])
		want   string // "" for a miss
	}{
		{"Remove", func(c *Cache[string]) { c.Remove(key(1)) }, ""},
		{"InvalidateID", func(c *Cache[string]) { c.InvalidateID("mt_1") }, ""},
		{"Purge", func(c *Cache[string]) { c.Purge() }, ""},
		{"Set replaces", func(c *Cache[string]) { c.Set(key(1), Entry[string]{Value: "new", Expires: exp}) }, "new"},
		{"Set negative", func(c *Cache[string]) { c.Set(key(1), Entry[string]{Negative: true, Expires: exp}) }, ""},
		{"evicted", func(c *Cache[string]) {
			for i := 2; i < 10; i++ {
				c.Set(key(i), Entry[string]{Value: "other", Expires: exp})
			}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newCache(t, 4, WithShards(1))
			c.Set(key(1), Entry[string]{Value: "old", ID: "mt_1", Expires: exp})
			for range 3 {
				if e, ok := c.Get(key(1)); !ok || e.Value != "old" {
					t.Fatalf("Get = %+v, %v; want old", e, ok)
				}
			}
			if k := key(1); c.shards[0].tab.Load().find(&k, hashKey(&k, &c.seed)) == nil {
				t.Fatal("the read index has no item for key 1 after hits, want one")
			}
			tc.change(c)
			e, ok := c.Get(key(1))
			if got := map[bool]string{true: e.Value}[ok && !e.Negative]; got != tc.want {
				t.Errorf("Get after the change = %+v, %v; want value %q", e, ok, tc.want)
			}
		})
	}
}

// TestHotItemConcurrent: readers hammer one key while a writer replaces and
// removes it; once the writer's Remove has returned, a reader's Get misses.
func TestHotItemConcurrent(t *testing.T) {
	c, _ := newCache(t, 8, WithShards(1))
	exp := t0.Add(time.Hour)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					c.Get(key(1))
					c.Get(key(2))
				}
			}
		}()
	}
	for i := range 500 {
		c.Set(key(1), Entry[string]{Value: fmt.Sprint(i), Expires: exp})
		if e, ok := c.Get(key(1)); !ok || e.Value != fmt.Sprint(i) {
			t.Fatalf("Get after Set %d = %+v, %v; want value %d", i, e, ok, i)
		}
		c.Remove(key(1))
		if e, ok := c.Get(key(1)); ok {
			t.Fatalf("Get after Remove = %+v, want a miss", e)
		}
	}
	close(stop)
	wg.Wait()
}
