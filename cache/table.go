package cache

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"
)

// table is a shard's read index: an open-addressed hash table (linear
// probing) of atomic pointers to the items the shard's LRU holds, so that Get
// and Peek find an item with loads only, taking no lock and writing nothing.
//
// It is written only under the shard's write lock, in step with the LRU: Set
// stores (put), the LRU's eviction callback (capacity eviction, Remove, expiry)
// deletes (del), Purge installs an empty table. A deleted slot holds the
// tombstone, never nil, so a probe for another key never stops early; a new
// key reuses the first tombstone on its probe path. Items never move within a
// table: when tombstones accumulate, the shard builds a new table from the live
// items and publishes it with one atomic store; readers still on the old table
// see a state the cache held during their call.
//
// The table has at least twice as many slots as the shard's capacity, and at
// most ¾ of its slots are used (live or tombstone), so a probe always ends at
// a nil slot, in a handful of steps on average.
type table[V any] struct {
	slots []atomic.Pointer[item[V]]
	mask  uint64
	tomb  *item[V] // marks a deleted slot; never stored in the LRU
}

// tableSlots returns the slot count for a shard of the given capacity.
func tableSlots(capacity int) int {
	n := 4
	for n < 2*capacity {
		n <<= 1
	}
	return n
}

func newTable[V any](slots int, tomb *item[V]) *table[V] {
	return &table[V]{slots: make([]atomic.Pointer[item[V]], slots), mask: uint64(slots - 1), tomb: tomb}
}

// hashKey spreads a key over the table. Keys are SHA-256 sums, but a caller
// could grind tokens whose sums share a few bits, so the hash is keyed with a
// random per-cache seed: one 64×64→128-bit multiply of two seeded key words,
// folded (as in wyhash). The key's first word, which picks the shard, is left
// out.
func hashKey(k *Key, seed *[2]uint64) uint64 {
	le := binary.LittleEndian
	hi, lo := bits.Mul64(le.Uint64(k[8:])^seed[0], le.Uint64(k[16:])^seed[1])
	return hi ^ lo
}

// find returns the live item stored under k, or nil. It takes no lock.
func (t *table[V]) find(k *Key, h uint64) *item[V] {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		p := t.slots[i].Load()
		if p == nil {
			return nil
		}
		if p.key == *k && p != t.tomb {
			return p
		}
	}
}

// The methods below run under the shard's write lock.

// put stores it, replacing the item with the same key if there is one.
func (s *shard[V]) put(it *item[V], h uint64) {
	t := s.tab.Load()
	free := -1
	i := h & t.mask
	for ; ; i = (i + 1) & t.mask {
		p := t.slots[i].Load()
		if p == nil {
			break
		}
		if p == t.tomb {
			if free < 0 {
				free = int(i)
			}
		} else if p.key == it.key {
			t.slots[i].Store(it)
			return
		}
	}
	if free >= 0 {
		t.slots[free].Store(it)
		s.live++
		return
	}
	if s.used+1 > len(t.slots)-len(t.slots)/4 {
		// Taking a nil slot would leave too few: rebuild without the
		// tombstones first, so a nil slot always ends every probe.
		s.rebuild(t)
		s.put(it, h)
		return
	}
	t.slots[i].Store(it)
	s.used++
	s.live++
}

// del removes it, if it is stored.
func (s *shard[V]) del(it *item[V], h uint64) {
	t := s.tab.Load()
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		p := t.slots[i].Load()
		if p == nil {
			return
		}
		if p == it {
			t.slots[i].Store(t.tomb)
			s.live--
			return
		}
	}
}

// rebuild publishes a new table holding old's live items and no tombstones.
func (s *shard[V]) rebuild(old *table[V]) {
	t := newTable(len(old.slots), old.tomb)
	for i := range old.slots {
		p := old.slots[i].Load()
		if p == nil || p == old.tomb {
			continue
		}
		j := p.hash & t.mask
		for t.slots[j].Load() != nil {
			j = (j + 1) & t.mask
		}
		t.slots[j].Store(p)
	}
	s.used = s.live
	s.tab.Store(t)
}

// clear publishes an empty table.
func (s *shard[V]) clear() {
	old := s.tab.Load()
	s.tab.Store(newTable(len(old.slots), old.tomb))
	s.used, s.live = 0, 0
}
