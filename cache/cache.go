package cache

import (
	"encoding/binary"
	"errors"
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
	// Negative marks a remembered refusal rather than a value. Negative
	// entries are kept in their own part of the cache (see WithNegativeSize).
	Negative bool
	// Expires is the first instant at which the entry is no longer served.
	Expires time.Time

	gen uint64 // the generation Set stored it in (see Retire)
}

// Cache is a bounded, sharded LRU cache with a per-entry expiry. It is safe for
// concurrent use by multiple goroutines and starts no goroutines.
type Cache[V any] struct {
	shards []shard[V]
	mask   uint64
	now    func() time.Time
	ids    *idIndex
	// gen is the current generation: a positive entry stored in an earlier
	// one is retired (see Retire).
	gen atomic.Uint64
}

// shard is a mutex around two golang-lru LRUs: one for positive entries, one
// for negative entries (nil when the negative part is empty). A key is in at
// most one of them.
type shard[V any] struct {
	mu                    sync.Mutex
	pos, neg              *simplelru.LRU[Key, Entry[V]]
	hits, negHits, misses uint64
}

// New returns a Cache holding at most size entries in total: the negative part
// (see WithNegativeSize) and the rest for positive entries.
func New[V any](size int, opts ...Option) (*Cache[V], error) {
	if size < 1 {
		return nil, errors.New("cache: size must be at least 1")
	}
	cfg := config{shards: defaultShards(), now: time.Now, negative: -1}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	neg := cfg.negative
	if neg < 0 {
		neg = defaultNegativeSize(size)
	}
	if neg >= size {
		return nil, errors.New("cache: the negative size must be smaller than the size")
	}
	pos := size - neg
	n := cfg.shards
	for n > pos || (neg > 0 && n > neg) {
		n >>= 1
	}
	c := &Cache[V]{
		shards: make([]shard[V], n),
		mask:   uint64(n - 1),
		now:    cfg.now,
		ids:    newIDIndex(),
	}
	for i := range c.shards {
		s := &c.shards[i]
		var err error
		if s.pos, err = simplelru.NewLRU(split(pos, n, i), c.onEvict); err != nil {
			return nil, err
		}
		if neg > 0 {
			if s.neg, err = simplelru.NewLRU(split(neg, n, i), c.onEvict); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// split returns shard i's share of total over n shards; the shares add up to
// total exactly.
func split(total, n, i int) int {
	if i < total%n {
		return total/n + 1
	}
	return total / n
}

// onEvict keeps the ID index in step with the LRUs. simplelru calls it, under
// the shard's lock, for capacity evictions, Remove and Purge.
func (c *Cache[V]) onEvict(k Key, e Entry[V]) {
	if e.ID != "" {
		c.ids.remove(e.ID, k)
	}
}

func (c *Cache[V]) shard(k *Key) *shard[V] {
	return &c.shards[binary.LittleEndian.Uint64(k[:8])&c.mask]
}

// lru returns the part of s that holds entries like e (nil: none).
func (s *shard[V]) lru(negative bool) *simplelru.LRU[Key, Entry[V]] {
	if negative {
		return s.neg
	}
	return s.pos
}

// peek returns the entry under k in either part, without touching the LRU
// order. It runs under s.mu.
func (s *shard[V]) peek(k Key) (Entry[V], bool) {
	if e, ok := s.pos.Peek(k); ok {
		return e, true
	}
	if s.neg != nil {
		return s.neg.Peek(k)
	}
	return Entry[V]{}, false
}

// Get returns the entry stored under k if there is one and it has not expired,
// and marks it as its part's most recently used. An expired entry is removed.
// Get does not allocate.
func (c *Cache[V]) Get(k Key) (Entry[V], bool) { return c.GetAt(k, c.now()) }

// GetAt is Get with the current time supplied by the caller, for callers that
// read the clock anyway. A retired entry (see Retire) is a miss, and stays.
func (c *Cache[V]) GetAt(k Key, now time.Time) (Entry[V], bool) {
	gen := c.gen.Load()
	s := c.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.pos.Get(k)
	if !ok && s.neg != nil {
		e, ok = s.neg.Get(k)
	}
	switch {
	case !ok:
		s.misses++
		return Entry[V]{}, false
	case !now.Before(e.Expires):
		s.lru(e.Negative).Remove(k)
		s.misses++
		return Entry[V]{}, false
	case e.retired(gen):
		s.misses++
		return Entry[V]{}, false
	case e.Negative:
		s.negHits++
	default:
		s.hits++
	}
	return e, true
}

// Peek returns the entry stored under k if there is one and it has neither
// expired nor been retired, like Get, but neither counts the lookup nor
// changes the LRU order.
func (c *Cache[V]) Peek(k Key) (Entry[V], bool) {
	now, gen := c.now(), c.gen.Load()
	s := c.shard(&k)
	s.mu.Lock()
	e, ok := s.peek(k)
	s.mu.Unlock()
	if !ok || !now.Before(e.Expires) || e.retired(gen) {
		return Entry[V]{}, false
	}
	return e, true
}

// Retire retires every positive entry stored so far, in O(1): Get, GetAt and
// Peek answer a retired entry as a miss, until Set replaces it with a fresh
// one; until then it stays where it is (counted by Len, evicted and expired
// as any other), and Retired finds it. Negative entries are never retired. It
// returns the new generation: entries stored from now on belong to it.
//
// m2mauth retires its cache when it may have missed revocations: a retired
// token is verified again before it is served, and Retired tells that it
// was valid a moment ago.
func (c *Cache[V]) Retire() uint64 { return c.gen.Add(1) }

// Retired reports whether k holds a retired positive entry that has not
// expired, and the generation it was stored in (entries retired by the
// Retire call that returned g were stored in generations below g).
func (c *Cache[V]) Retired(k Key) (gen uint64, ok bool) {
	now, cur := c.now(), c.gen.Load()
	s := c.shard(&k)
	s.mu.Lock()
	e, found := s.pos.Peek(k)
	s.mu.Unlock()
	if !found || !now.Before(e.Expires) || !e.retired(cur) {
		return 0, false
	}
	return e.gen, true
}

// retired reports whether e is a positive entry stored before generation gen.
func (e *Entry[V]) retired(gen uint64) bool { return !e.Negative && e.gen < gen }

// Set stores e under k, replacing any entry there, and evicts the least
// recently used entry of e's part (positive or negative) if that part of the
// shard is full: a negative entry never evicts a positive one, nor the
// reverse. An entry that has already expired is not stored, and removes
// whatever k held; so does a negative entry when the negative size is zero.
func (c *Cache[V]) Set(k Key, e Entry[V]) {
	s := c.shard(&k)
	to := s.lru(e.Negative)
	if to == nil || !c.now().Before(e.Expires) {
		c.Remove(k)
		return
	}
	e.gen = c.gen.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	if from := s.lru(!e.Negative); from != nil {
		from.Remove(k) // onEvict drops its ID pair
	}
	if old, ok := to.Peek(k); ok && old.ID != "" && old.ID != e.ID {
		// simplelru replaces a value in place, without eviction callback.
		c.ids.remove(old.ID, k)
	}
	if e.ID != "" {
		c.ids.add(e.ID, k)
	}
	to.Add(k, e) // may evict another entry (onEvict) before storing
}

// Remove deletes the entry under k and reports whether there was one.
func (c *Cache[V]) Remove(k Key) bool {
	s := c.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pos.Remove(k) {
		return true
	}
	return s.neg != nil && s.neg.Remove(k)
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
		s.pos.Purge() // onEvict cleans the ID index
		if s.neg != nil {
			s.neg.Purge()
		}
		s.mu.Unlock()
	}
}

// Len returns the number of entries, expired ones not yet removed included.
// It is at most the size given to New.
func (c *Cache[V]) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += s.pos.Len()
		if s.neg != nil {
			n += s.neg.Len()
		}
		s.mu.Unlock()
	}
	return n
}
