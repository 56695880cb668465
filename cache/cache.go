package cache

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Key is the fixed-size key of an entry; in m2mauth, the SHA-256 of a token.
type Key = [32]byte

// Entry is a cached value with its own expiry.
type Entry[V any] struct {
	Value V
	// ID, when not empty, indexes the entry for InvalidateID (in m2mauth, the
	// token's mt_… ID).
	ID string
	// Negative marks a remembered refusal rather than a value.
	Negative bool
	// Expires is the first instant at which the entry is no longer served.
	Expires time.Time
}

// Cache is a bounded, sharded LRU cache with a per-entry expiry. It is safe for
// concurrent use by multiple goroutines and starts no goroutines.
type Cache[V any] struct {
	shards []shard[V]
	mask   uint64
	now    func() time.Time
	ids    *idIndex
	size   int
	seed   [2]uint64 // keys hashKey, random per cache
}

// item is what a shard's LRU and read index hold: an immutable Entry (Set
// replaces the item, it never edits one), its key and read-index hash, and the
// shard sequence number of its last move to the front of the LRU.
type item[V any] struct {
	Entry[V]
	key  Key
	hash uint64
	seq  atomic.Uint64
}

// shard is one LRU (golang-lru's simplelru) with its own lock, laid out on
// cache lines of its own.
//
// Every move of an item to the front of the LRU (Set, or promotion on a hit)
// takes the write lock, increments seq and records the new value in the item.
// seq − item.seq bounds how many items were moved in front of it since, so it
// bounds the item's distance from the front. A hit promotes the item (write
// lock) only when that distance may have reached promoteAfter, a quarter of the
// shard's capacity. So repeated hits never write the LRU, and the order stays
// close to exact LRU: an entry that was hit survives at least ¾ of the shard's
// capacity of later insertions (exact LRU: all of it) before it can be evicted.
//
// tab is the shard's read index (see table): Get and Peek find items there
// without a lock, so hits on any keys from many cores share no written memory
// but their own counter stripes (and, now and then, a promotion).
type shard[V any] struct {
	mu           sync.RWMutex // guards lru, used, live; tab, seq and the items' seq change only under mu.Lock
	lru          *simplelru.LRU[Key, *item[V]]
	promoteAfter uint64 // max(1, capacity/4)
	used, live   int    // tab's slots holding an item or a tombstone / an item
	_            [64 - 24 - 8 - 8 - 16]byte
	// Read on every hit, written only under mu.Lock.
	tab atomic.Pointer[table[V]]
	seq atomic.Uint64
	_   [64 - 16]byte
	// Written on every lookup, each stripe alone on its cache line.
	stats [counterStripes]counters
}

// New returns a Cache holding at most size entries in total.
func New[V any](size int, opts ...Option) (*Cache[V], error) {
	if size < 1 {
		return nil, errors.New("cache: size must be at least 1")
	}
	cfg := config{shards: defaultShards(), now: time.Now}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	n := cfg.shards
	for n > size {
		n >>= 1
	}
	c := &Cache[V]{
		shards: make([]shard[V], n),
		mask:   uint64(n - 1),
		now:    cfg.now,
		ids:    newIDIndex(),
		size:   size,
		seed:   [2]uint64{rand.Uint64(), rand.Uint64()},
	}
	tomb := new(item[V])
	for i := range c.shards {
		capacity := size / n
		if i < size%n {
			capacity++
		}
		l, err := simplelru.NewLRU(capacity, c.onEvict)
		if err != nil {
			return nil, err
		}
		c.shards[i].lru = l
		c.shards[i].tab.Store(newTable(tableSlots(capacity), tomb))
		c.shards[i].promoteAfter = uint64(max(1, capacity/4))
	}
	return c, nil
}

// onEvict keeps the read index and the ID index in step with the LRU.
// simplelru calls it, under the shard's write lock, for capacity evictions,
// Remove and Purge.
func (c *Cache[V]) onEvict(k Key, it *item[V]) {
	c.shard(&k).del(it, it.hash)
	if it.ID != "" {
		c.ids.remove(it.ID, k)
	}
}

func (c *Cache[V]) shard(k *Key) *shard[V] {
	return &c.shards[binary.LittleEndian.Uint64(k[:8])&c.mask]
}

// Get returns the entry stored under k if there is one and it has not expired,
// and marks it as the shard's most recently used. An expired entry is removed.
// Get does not allocate.
func (c *Cache[V]) Get(k Key) (Entry[V], bool) { return c.GetAt(k, c.now()) }

// GetAt is Get with the current time supplied by the caller, for callers that
// read the clock anyway.
func (c *Cache[V]) GetAt(k Key, now time.Time) (Entry[V], bool) {
	s := c.shard(&k)
	it := s.tab.Load().find(&k, hashKey(&k, &c.seed))
	if it == nil {
		s.count().misses.Add(1)
		return Entry[V]{}, false
	}
	if !now.Before(it.Expires) {
		s.expire(k, it)
		s.count().misses.Add(1)
		return Entry[V]{}, false
	}
	if s.seq.Load()-it.seq.Load() >= s.promoteAfter {
		s.promote(k)
	}
	if it.Negative {
		s.count().negHits.Add(1)
	} else {
		s.count().hits.Add(1)
	}
	return it.Entry, true
}

// Peek returns the entry stored under k if there is one and it has not
// expired, like Get, but neither counts the lookup nor changes the LRU order.
func (c *Cache[V]) Peek(k Key) (Entry[V], bool) {
	it := c.shard(&k).tab.Load().find(&k, hashKey(&k, &c.seed))
	if it == nil || !c.now().Before(it.Expires) {
		return Entry[V]{}, false
	}
	return it.Entry, true
}

// promote moves the item under k to the front of the LRU.
func (s *shard[V]) promote(k Key) {
	s.mu.Lock()
	if it, ok := s.lru.Get(k); ok {
		it.seq.Store(s.seq.Add(1))
	}
	s.mu.Unlock()
}

// expire removes the item under k if it is still the one the caller saw
// expired, that is, if no Set replaced it in between.
func (s *shard[V]) expire(k Key, seen *item[V]) {
	s.mu.Lock()
	if cur, ok := s.lru.Peek(k); ok && cur == seen {
		s.lru.Remove(k)
	}
	s.mu.Unlock()
}

// Set stores e under k, replacing any entry there, and evicts the shard's least
// recently used entry if the shard is full. An entry that has already expired
// is not stored, and removes whatever k held.
func (c *Cache[V]) Set(k Key, e Entry[V]) {
	if !c.now().Before(e.Expires) {
		c.Remove(k)
		return
	}
	it := &item[V]{Entry: e, key: k, hash: hashKey(&k, &c.seed)}
	s := c.shard(&k)
	s.mu.Lock()
	if old, ok := s.lru.Peek(k); ok {
		// simplelru replaces a value in place, without eviction callback;
		// put below replaces it in the read index.
		if old.ID != "" && old.ID != e.ID {
			c.ids.remove(old.ID, k)
		}
	}
	if e.ID != "" {
		c.ids.add(e.ID, k)
	}
	it.seq.Store(s.seq.Add(1))
	s.lru.Add(k, it) // may evict (onEvict) before storing
	s.put(it, it.hash)
	s.mu.Unlock()
}

// Remove deletes the entry under k and reports whether there was one.
func (c *Cache[V]) Remove(k Key) bool {
	s := c.shard(&k)
	s.mu.Lock()
	ok := s.lru.Remove(k)
	s.mu.Unlock()
	return ok
}

// InvalidateID removes every entry whose ID is id and returns how many it
// removed.
func (c *Cache[V]) InvalidateID(id string) int {
	if id == "" {
		return 0
	}
	n := 0
	for _, k := range c.ids.lookup(id) {
		if c.Remove(k) {
			n++
		}
	}
	return n
}

// Purge removes every entry.
func (c *Cache[V]) Purge() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.clear()
		s.lru.Purge() // onEvict cleans the ID index; the new table has nothing to delete
		s.mu.Unlock()
	}
}

// Len returns the number of entries, expired ones not yet removed included.
// It is at most the size given to New.
func (c *Cache[V]) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += s.lru.Len()
		s.mu.RUnlock()
	}
	return n
}

// Size returns the capacity given to New.
func (c *Cache[V]) Size() int { return c.size }

// Shards returns the number of shards.
func (c *Cache[V]) Shards() int { return len(c.shards) }
