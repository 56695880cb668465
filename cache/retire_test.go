package cache

import (
	"testing"
	"time"
)

// TestRetire: Retire makes every positive entry stored so far a miss for Get,
// GetAt and Peek, without removing it: Retired finds it (with the generation
// it was stored in) until Set replaces it, it expires or it is removed.
// Negative entries are not retired; entries stored after Retire are served.
func TestRetire(t *testing.T) {
	c, clk := newCache(t, 8, withShards(1))
	exp := t0.Add(time.Minute)
	c.Set(key(1), Entry[string]{Value: "a", ID: "mt_a", Expires: exp})
	c.Set(key(2), Entry[string]{Value: "b", Expires: exp})
	c.Set(key(3), Entry[string]{Value: "refused", Negative: true, Expires: exp})
	if _, ok := c.Retired(key(1)); ok {
		t.Fatal("Retired(key 1) before any Retire: got true, want false")
	}

	gen := c.Retire()
	if gen != 1 {
		t.Errorf("first Retire returned generation %d, want 1", gen)
	}
	for _, i := range []int{1, 2} {
		if e, ok := c.Get(key(i)); ok {
			t.Errorf("Get(key %d) after Retire = %+v, want a miss", i, e)
		}
		if _, ok := c.Peek(key(i)); ok {
			t.Errorf("Peek(key %d) after Retire found the entry, want a miss", i)
		}
		if g, ok := c.Retired(key(i)); !ok || g != 0 {
			t.Errorf("Retired(key %d) = %d, %v; want generation 0, true", i, g, ok)
		}
	}
	if e, ok := c.Get(key(3)); !ok || !e.Negative {
		t.Errorf("Get(negative key 3) after Retire = %+v, %v; want the negative entry (never retired)", e, ok)
	}
	if _, ok := c.Retired(key(3)); ok {
		t.Error("Retired(negative key 3): got true, want false")
	}
	if got := c.Len(); got != 3 {
		t.Errorf("got Len %d after Retire, want 3 (retired entries stay)", got)
	}
	if st := c.Stats(); st.Hits != 0 || st.Misses != 2 || st.NegativeHits != 1 {
		t.Errorf("got stats %+v, want 0 hits, 2 misses, 1 negative hit", st)
	}

	// A fresh entry replaces the retired one; InvalidateID still reaches a
	// retired entry.
	c.Set(key(2), Entry[string]{Value: "b2", Expires: exp})
	if e, ok := c.Get(key(2)); !ok || e.Value != "b2" {
		t.Errorf("Get(key 2) after a fresh Set = %+v, %v; want b2", e, ok)
	}
	if _, ok := c.Retired(key(2)); ok {
		t.Error("Retired(key 2) after a fresh Set: got true, want false")
	}
	if n := c.InvalidateID("mt_a"); n != 1 {
		t.Errorf("InvalidateID of a retired entry removed %d, want 1", n)
	}
	if _, ok := c.Retired(key(1)); ok {
		t.Error("Retired(key 1) after InvalidateID: got true, want false")
	}

	// A second Retire retires the fresh entry too, with its own generation.
	c.Set(key(4), Entry[string]{Value: "d", Expires: t0.Add(time.Second)})
	if gen := c.Retire(); gen != 2 {
		t.Errorf("second Retire returned generation %d, want 2", gen)
	}
	if g, ok := c.Retired(key(2)); !ok || g != 1 {
		t.Errorf("Retired(key 2) = %d, %v; want generation 1, true", g, ok)
	}
	clk.Advance(time.Second)
	if _, ok := c.Retired(key(4)); ok {
		t.Error("Retired(key 4) once expired: got true, want false")
	}
}

// TestRetiredHitDoesNotAllocate: the retired check keeps Get allocation-free.
func TestRetiredHitDoesNotAllocate(t *testing.T) {
	c, _ := newCache(t, 8)
	c.Set(key(1), Entry[string]{Value: "a", Expires: t0.Add(time.Minute)})
	c.Retire()
	c.Set(key(2), Entry[string]{Value: "b", Expires: t0.Add(time.Minute)})
	for _, k := range []Key{key(1), key(2)} {
		if n := testing.AllocsPerRun(100, func() { c.Get(k) }); n != 0 {
			t.Errorf("got %v allocations per Get, want 0", n)
		}
	}
}
