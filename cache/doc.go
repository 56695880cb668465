// Package cache is a bounded, sharded LRU cache with a per-entry expiry, built
// for m2mauth's verifier: keys are fixed-size hashes ([Key], the SHA-256 of a
// token, so no raw token is ever stored), values are positive or negative
// (Entry.Negative) results, and each entry carries its own expiry, because a
// token's cached validity must never outlive the token.
//
// # Design
//
//   - Storage is N shards (a power of two, picked from the key's first 8 bytes)
//     of github.com/hashicorp/golang-lru/v2's simplelru LRU, each behind its own
//     RWMutex on a padded line with its counters. golang-lru's expirable LRU has
//     one TTL for all entries, so the expiry is stored in the entry and checked
//     on Get against an injectable clock ([WithClock]); an expired entry is a
//     miss and is removed.
//   - The total size is split exactly between the shards, so Len never exceeds
//     the size given to [New], whatever is inserted.
//   - Lookups take no lock. Beside its LRU, each shard has a read index: an
//     open-addressed hash table (linear probing, keyed with a random per-cache
//     seed) of atomic pointers to the LRU's items, with at least twice as many
//     slots as the shard's capacity. Get and Peek only load from it. It is
//     written only under the shard's write lock, in step with the LRU: Set
//     stores, the LRU's eviction callback (capacity eviction, Remove, expiry)
//     leaves a tombstone, Purge installs an empty table; when tombstones fill a
//     quarter of the slots, the shard builds a fresh table from the live items
//     and publishes it with one atomic store. So once a Set, Remove, Purge or
//     eviction has returned, no Get serves what it replaced or removed.
//   - Hits write no shared memory in the common case. A hit moves an entry to
//     the front (write lock) only when a quarter of the shard's capacity may
//     have been moved in front of it since its last move, so an entry that was
//     hit survives at least ¾ of its shard's capacity of later insertions
//     (exact LRU: all of it). The hit and miss counters live in each shard,
//     striped by goroutine over cache lines of their own. So many cores hitting
//     one token each, or cycling through many, share no written memory and do
//     not serialise (2-core machine, ns/op on two cores vs one:
//     BenchmarkGetParallel/hot 0.5×, /cycle 0.56×). Get does not allocate.
//   - A secondary index ID → keys serves [Cache.InvalidateID]. It is updated
//     before a Set stores its entry and by the LRU's eviction callback
//     (capacity eviction, Remove, Purge, expiry), so it never holds more pairs
//     than the cache holds entries.
//
// # Memory
//
// TestMemoryPerEntry measures about 410 bytes of heap per entry for the cache
// itself (map slot, list element, key, entry, index pair, and the read index's
// slots, 8 bytes each, 2 to 4 per unit of capacity; 100,000 entries in a cache
// of 200,000, Go 1.26, amd64), not counting the value the entry points to or the
// ID string. The read index is allocated whole by [New]: a verifier cache of the
// default 10,000 entries costs about 260 KB of it, and about 3.8 MB in all when
// full, plus its tokens.
//
// # Concurrency
//
// A Cache is safe for concurrent use by multiple goroutines. It starts no
// goroutines and needs no Close: expired entries are dropped when read or when
// the LRU evicts them.
package cache
