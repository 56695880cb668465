package cache

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestMemoryPerEntry measures the heap a full cache holds per entry: the LRU's
// list element and map slot, the key, the Entry with its ID string (35 bytes,
// the length of an mt_ ID) and the ID index. The value is a pointer to one shared
// object, so the figure is the cache's own overhead (go test -run
// MemoryPerEntry -v ./cache).
func TestMemoryPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100k entries")
	}
	const n = 100_000
	type token struct{ a, b string }
	shared := &token{}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("mt_%032x", i)
	}
	exp := t0.Add(time.Hour)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, err := New[*token](2*n, WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c.Set(key(i), Entry[*token]{Value: shared, ID: ids[i], Expires: exp})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := c.Len(); got != n {
		t.Fatalf("got Len %d, want %d", got, n)
	}
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per entry (%d entries in a cache of twice that size, %d shards), ID strings (48 B each) allocated beforehand", perEntry, n, len(c.shards))
	if perEntry > 600 {
		t.Errorf("got %.0f bytes per entry, want at most 600", perEntry)
	}
	runtime.KeepAlive(c)
	runtime.KeepAlive(ids)
}
