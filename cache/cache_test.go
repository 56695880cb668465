package cache

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

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
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}
func (c *fakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// withShards sets the shard count (a power of two), for tests that need one
// exact LRU or a known layout.
func withShards(n int) Option {
	return func(c *config) error { c.shards = n; return nil }
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

// parts returns the number of positive and negative entries held.
func (c *Cache[V]) parts() (pos, neg int) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		pos += s.pos.Len()
		if s.neg != nil {
			neg += s.neg.Len()
		}
		s.mu.Unlock()
	}
	return pos, neg
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
		{"nil clock", 10, []Option{WithClock(nil)}, true, 0},
		{"negative size below zero", 10, []Option{WithNegativeSize(-1)}, true, 0},
		{"negative size equal to size", 10, []Option{WithNegativeSize(10)}, true, 0},
		{"one entry", 1, []Option{withShards(16)}, false, 1},
		{"shards lowered to the negative part", 8, []Option{withShards(16)}, false, 2},
		{"shards lowered to the positive part", 8, []Option{withShards(16), WithNegativeSize(0)}, false, 8},
		{"no negative part", 10, []Option{WithNegativeSize(0)}, false, 8},
		{"default", 10_000, nil, false, defaultShards()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New[int](tc.size, tc.opts...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("New(%d) error = %v, want error: %v", tc.size, err, tc.wantErr)
			}
			if err == nil && len(c.shards) != tc.wantShards {
				t.Errorf("got %d shards, want %d", len(c.shards), tc.wantShards)
			}
		})
	}
}

// TestPartsBounded fills each part far beyond its size: each holds exactly
// its share and no more, and neither part's flood evicts the other's entries.
func TestPartsBounded(t *testing.T) {
	for _, tc := range []struct {
		name             string
		size             int
		opts             []Option
		wantPos, wantNeg int
	}{
		{"size 1", 1, nil, 1, 0},
		{"size 2", 2, nil, 1, 1},
		{"size 7", 7, nil, 5, 2},
		{"size 1000 default", 1000, nil, 750, 250},
		{"size 1000, 100 negative", 1000, []Option{WithNegativeSize(100)}, 900, 100},
		{"size 1000, no negative", 1000, []Option{WithNegativeSize(0)}, 1000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newCache(t, tc.size, tc.opts...)
			exp := t0.Add(time.Hour)
			for i := range 20 * tc.size {
				c.Set(key(i), Entry[string]{Value: "v", ID: fmt.Sprint("mt_", i), Expires: exp})
			}
			if pos, neg := c.parts(); pos != tc.wantPos || neg != 0 {
				t.Fatalf("after a flood of positive entries: got %d positive, %d negative; want %d, 0", pos, neg, tc.wantPos)
			}
			// The positive entries held now, which the negative flood below must not evict.
			var kept []Key
			for i := range 20 * tc.size {
				if _, ok := c.Peek(key(i)); ok {
					kept = append(kept, key(i))
				}
			}
			if len(kept) != tc.wantPos {
				t.Fatalf("Peek found %d positive entries, want %d", len(kept), tc.wantPos)
			}
			for i := range 20 * tc.size {
				c.Set(key(-1-i), Entry[string]{Negative: true, ID: fmt.Sprint("mt_n", i), Expires: exp})
			}
			if pos, neg := c.parts(); pos != tc.wantPos || neg != tc.wantNeg {
				t.Errorf("after a flood of negative entries: got %d positive, %d negative; want %d, %d", pos, neg, tc.wantPos, tc.wantNeg)
			}
			for _, k := range kept {
				if e, ok := c.Get(k); !ok || e.Negative {
					t.Fatalf("a positive entry is gone after the negative flood: Get = %+v, %v", e, ok)
				}
			}
			if n := c.Len(); n != tc.size {
				t.Errorf("got Len %d, want %d", n, tc.size)
			}
			if got, want := c.ids.len(), c.Len(); got != want {
				t.Errorf("got %d indexed IDs for %d entries (all with IDs), want equal", got, want)
			}
		})
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
		clk.Set(t0.Add(step.at))
		for i, want := range step.present {
			if _, got := c.Peek(key(i + 1)); got != want {
				t.Errorf("%s: Peek(key %d) found = %v, want %v", step.name, i+1, got, want)
			}
			if _, got := c.Get(key(i + 1)); got != want {
				t.Errorf("%s: Get(key %d) found = %v, want %v", step.name, i+1, got, want)
			}
		}
	}
	if n := c.Len(); n != 0 {
		t.Errorf("got Len %d after every entry expired and was read, want 0", n)
	}
}

func TestGetAt(t *testing.T) {
	c, _ := newCache(t, 10)
	c.Set(key(1), Entry[string]{Value: "v", Expires: t0.Add(time.Second)})
	if _, ok := c.GetAt(key(1), t0.Add(time.Second-1)); !ok {
		t.Error("GetAt just before the expiry found nothing, want the entry")
	}
	if _, ok := c.GetAt(key(1), t0.Add(time.Second)); ok {
		t.Error("GetAt at the expiry found the entry, want a miss")
	}
	if n := c.Len(); n != 0 {
		t.Errorf("got Len %d after GetAt saw the entry expired, want 0", n)
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
	if got, ok := c.Get(key(2)); !ok || got != neg {
		t.Fatalf("Get(negative) = %+v, %v; want %+v, true", got, ok, neg)
	}
	c.Get(key(3))
	st := c.Stats()
	if st.Hits != 1 || st.NegativeHits != 1 || st.Misses != 1 || st.Entries != 2 {
		t.Errorf("got stats %+v, want 1 hit, 1 negative hit, 1 miss, 2 entries", st)
	}
}

// TestReplace: Set replaces whatever the key held, across parts, and keeps
// the ID index in step.
func TestReplace(t *testing.T) {
	exp := t0.Add(time.Hour)
	pos := Entry[string]{Value: "a", ID: "mt_a", Expires: exp}
	for _, tc := range []struct {
		name     string
		first    Entry[string]
		then     Entry[string]
		wantPos  int
		wantNeg  int
		wantIDs  int
		invalidA int // what InvalidateID("mt_a") then removes
	}{
		{"positive by negative without ID", pos, Entry[string]{Negative: true, Expires: exp}, 0, 1, 0, 0},
		{"positive by negative with the same ID", pos, Entry[string]{Negative: true, ID: "mt_a", Expires: exp}, 0, 1, 1, 1},
		{"negative by positive", Entry[string]{Negative: true, ID: "mt_b", Expires: exp}, pos, 1, 0, 1, 1},
		{"positive by positive with another ID", Entry[string]{Value: "b", ID: "mt_b", Expires: exp}, pos, 1, 0, 1, 1},
		{"positive by an expired entry", pos, Entry[string]{Value: "b", ID: "mt_a", Expires: t0}, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newCache(t, 10)
			c.Set(key(1), tc.first)
			c.Set(key(1), tc.then)
			if p, n := c.parts(); p != tc.wantPos || n != tc.wantNeg {
				t.Errorf("got %d positive and %d negative entries, want %d and %d", p, n, tc.wantPos, tc.wantNeg)
			}
			if got := c.ids.len(); got != tc.wantIDs {
				t.Errorf("got %d indexed IDs, want %d", got, tc.wantIDs)
			}
			if tc.wantPos+tc.wantNeg == 1 {
				if e, ok := c.Get(key(1)); !ok || e != tc.then {
					t.Errorf("Get = %+v, %v; want %+v", e, ok, tc.then)
				}
			}
			if got := c.InvalidateID("mt_a"); got != tc.invalidA {
				t.Errorf("InvalidateID(mt_a) removed %d, want %d", got, tc.invalidA)
			}
		})
	}
}

func TestNoNegativePart(t *testing.T) {
	c, _ := newCache(t, 10, WithNegativeSize(0))
	c.Set(key(1), Entry[string]{Value: "v", ID: "mt_1", Expires: t0.Add(time.Hour)})
	c.Set(key(1), Entry[string]{Negative: true, ID: "mt_1", Expires: t0.Add(time.Hour)})
	if e, ok := c.Get(key(1)); ok {
		t.Errorf("Get = %+v after a negative Set with no negative part, want a miss (the positive entry removed)", e)
	}
	if n, ids := c.Len(), c.ids.len(); n != 0 || ids != 0 {
		t.Errorf("got %d entries and %d indexed IDs, want 0 and 0", n, ids)
	}
}

func TestLRUOrder(t *testing.T) {
	c, _ := newCache(t, 5, withShards(1), WithNegativeSize(1))
	exp := t0.Add(time.Hour)
	for i := range 4 {
		c.Set(key(i), Entry[string]{Value: fmt.Sprint(i), Expires: exp})
	}
	c.Get(key(0)) // 0 becomes the most recently used; 1 is now the oldest
	c.Set(key(4), Entry[string]{Value: "4", Expires: exp})
	c.Set(key(5), Entry[string]{Negative: true, Expires: exp}) // in the negative part: evicts nothing positive
	for i, want := range []bool{true, false, true, true, true, true} {
		if _, got := c.Get(key(i)); got != want {
			t.Errorf("Get(key %d) found = %v, want %v", i, got, want)
		}
	}
	if n := c.Len(); n != 5 {
		t.Errorf("got Len %d, want 5", n)
	}
}

func TestShardsSpread(t *testing.T) {
	c, _ := newCache(t, 1<<12, withShards(16), WithNegativeSize(0))
	for i := range 1 << 12 {
		c.Set(key(i), Entry[string]{Expires: t0.Add(time.Hour)})
	}
	for i := range c.shards {
		if n := c.shards[i].pos.Len(); n < 128 {
			t.Errorf("shard %d holds %d of 4096 keys, want about 256", i, n)
		}
	}
}

func TestInvalidateID(t *testing.T) {
	c, _ := newCache(t, 100)
	exp := t0.Add(time.Hour)
	c.Set(key(1), Entry[string]{Value: "a", ID: "mt_a", Expires: exp})
	c.Set(key(2), Entry[string]{Value: "a2", ID: "mt_a", Expires: exp}) // a second value with the same ID
	c.Set(key(3), Entry[string]{Negative: true, ID: "mt_a", Expires: exp})
	c.Set(key(4), Entry[string]{Value: "b", ID: "mt_b", Expires: exp})

	if n := c.InvalidateID("mt_a"); n != 3 {
		t.Errorf("InvalidateID(mt_a) removed %d, want 3", n)
	}
	if n := c.InvalidateID("mt_a"); n != 0 {
		t.Errorf("second InvalidateID(mt_a) removed %d, want 0", n)
	}
	if n := c.InvalidateID(""); n != 0 {
		t.Errorf("InvalidateID(\"\") removed %d, want 0", n)
	}
	for i, want := range []bool{false, false, false, true} {
		if _, got := c.Get(key(i + 1)); got != want {
			t.Errorf("Get(key %d) found = %v, want %v", i+1, got, want)
		}
	}
	if got := c.ids.len(); got != 1 {
		t.Errorf("got %d indexed IDs, want 1", got)
	}
}

func TestIndexCleanedOnEvictionExpiryAndPurge(t *testing.T) {
	c, clk := newCache(t, 10, withShards(2))
	for i := range 1000 {
		c.Set(key(i), Entry[string]{ID: fmt.Sprint("mt_", i), Negative: i%2 == 0, Expires: t0.Add(time.Second)})
	}
	if n, ids := c.Len(), c.ids.len(); n != 10 || ids != 10 {
		t.Fatalf("got %d entries, %d indexed IDs; want 10 and 10", n, ids)
	}
	clk.Advance(time.Second)
	for i := range 1000 {
		c.Get(key(i)) // expired entries are removed when read
	}
	if n, ids := c.Len(), c.ids.len(); n != 0 || ids != 0 {
		t.Errorf("got %d entries, %d indexed IDs after expiry; want 0 and 0", n, ids)
	}
	c.Set(key(1), Entry[string]{ID: "mt_1", Expires: clk.Now().Add(time.Hour)})
	c.Set(key(2), Entry[string]{ID: "mt_2", Negative: true, Expires: clk.Now().Add(time.Hour)})
	c.Purge()
	if n, ids := c.Len(), c.ids.len(); n != 0 || ids != 0 {
		t.Errorf("got %d entries, %d indexed IDs after Purge; want 0 and 0", n, ids)
	}
}

// TestConcurrentUse runs Set, Remove, InvalidateID, Purge and Get from many
// goroutines (run with -race): the bounds hold throughout and, once they are
// done, the ID index holds exactly the entries' pairs.
func TestConcurrentUse(t *testing.T) {
	const size = 64
	c, clk := newCache(t, size, withShards(4))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := key((g*7 + i) % 200)
				switch i % 6 {
				case 0, 1:
					c.Set(k, Entry[string]{Value: "v", ID: fmt.Sprint("mt_", i%50), Negative: i%4 == 1, Expires: clk.Now().Add(time.Second)})
				case 2:
					c.Remove(k)
				case 3:
					c.InvalidateID(fmt.Sprint("mt_", i%50))
				case 4:
					if i%500 == 4 {
						c.Purge()
					}
					if n := c.Len(); n > size {
						t.Errorf("got Len %d, want at most %d", n, size)
					}
				default:
					if i%100 == 5 {
						clk.Advance(100 * time.Millisecond)
					}
					c.Get(k)
				}
			}
		}()
	}
	wg.Wait()
	st := c.Stats()
	if st.Entries > size {
		t.Errorf("got %d entries, want at most %d", st.Entries, size)
	}
	if got := c.ids.len(); got != st.Entries {
		t.Errorf("got %d indexed IDs for %d entries (all with IDs), want equal", got, st.Entries)
	}
}

func TestGetDoesNotAllocate(t *testing.T) {
	c, _ := newCache(t, 10)
	for _, tc := range []struct {
		name  string
		key   Key
		entry *Entry[string] // nil: a miss
	}{
		{"positive hit", key(1), &Entry[string]{Value: "v", ID: "mt_1", Expires: t0.Add(time.Hour)}},
		{"negative hit", key(2), &Entry[string]{Negative: true, ID: "mt_2", Expires: t0.Add(time.Hour)}},
		{"miss", key(3), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.entry != nil {
				c.Set(tc.key, *tc.entry)
			}
			if _, ok := c.Get(tc.key); ok != (tc.entry != nil) {
				t.Fatalf("Get found = %v, want %v", ok, tc.entry != nil)
			}
			if n := testing.AllocsPerRun(1000, func() { c.Get(tc.key) }); n != 0 {
				t.Errorf("Get allocates %v times, want 0", n)
			}
		})
	}
}

func TestPeek(t *testing.T) {
	c, clk := newCache(t, 3, withShards(1), WithNegativeSize(1))
	exp := t0.Add(time.Second)
	c.Set(key(1), Entry[string]{Value: "v", Expires: exp})
	c.Set(key(2), Entry[string]{Value: "w", Expires: exp})
	if e, ok := c.Peek(key(1)); !ok || e.Value != "v" {
		t.Errorf("Peek = %+v, %v; want the entry", e, ok)
	}
	// Peek did not make key 1 the most recently used: it is evicted first.
	c.Set(key(3), Entry[string]{Value: "x", Expires: exp})
	if _, ok := c.Peek(key(1)); ok {
		t.Error("Peek found key 1 after an insertion, want it evicted (Peek must not reorder)")
	}
	if _, ok := c.Peek(key(4)); ok {
		t.Error("Peek(absent key) found an entry, want none")
	}
	clk.Advance(time.Second)
	if _, ok := c.Peek(key(2)); ok {
		t.Error("Peek found an expired entry, want none")
	}
	if st := c.Stats(); st.Hits+st.NegativeHits+st.Misses != 0 {
		t.Errorf("got stats %+v after Peeks, want no lookup counted", st)
	}
}
