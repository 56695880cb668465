package cache

import (
	"slices"
	"sync"
)

// idIndex maps an entry's ID to the keys of the live entries carrying it, so
// that InvalidateID finds them. It holds exactly the (ID, key) pairs of entries
// in the cache: a pair is added before its entry is stored and removed by the
// LRU's eviction callback (capacity eviction, Remove, Purge), so the index is
// bounded by the cache's size. It is touched only on writes, never on hits.
type idIndex struct {
	mu   sync.Mutex
	keys map[string][]Key // almost always one key per ID
}

func newIDIndex() *idIndex { return &idIndex{keys: make(map[string][]Key)} }

func (x *idIndex) add(id string, k Key) {
	x.mu.Lock()
	if ks := x.keys[id]; !slices.Contains(ks, k) {
		x.keys[id] = append(ks, k)
	}
	x.mu.Unlock()
}

func (x *idIndex) remove(id string, k Key) {
	x.mu.Lock()
	ks := x.keys[id]
	if i := slices.Index(ks, k); i >= 0 {
		if len(ks) == 1 {
			delete(x.keys, id)
		} else {
			x.keys[id] = slices.Delete(ks, i, i+1)
		}
	}
	x.mu.Unlock()
}

// lookup returns a copy of the keys carrying id.
func (x *idIndex) lookup(id string) []Key {
	x.mu.Lock()
	ks := slices.Clone(x.keys[id])
	x.mu.Unlock()
	return ks
}

// len returns the number of (ID, key) pairs held.
func (x *idIndex) len() int {
	x.mu.Lock()
	n := 0
	for _, ks := range x.keys {
		n += len(ks)
	}
	x.mu.Unlock()
	return n
}
