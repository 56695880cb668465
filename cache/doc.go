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
//   - Hits write no shared memory in the common case. A hit moves an entry to
//     the front (write lock) only when a quarter of the shard's capacity may
//     have been moved in front of it since its last move, so an entry that was
//     hit survives at least ¾ of its shard's capacity of later insertions
//     (exact LRU: all of it). Each shard has one "hot" item (the first one a
//     lookup found while the slot was empty); a hit on it takes no lock at all
//     (other hits take the read lock). The hit and miss counters live in each
//     shard, striped by goroutine over cache lines of their own. So many cores
//     hitting one hot token, or each its own, share no written memory and do
//     not serialise (BenchmarkGetParallel/hot: 0.5× the one-core ns/op on two
//     cores). Many cores cycling through many tokens still meet on the shards'
//     read locks (BenchmarkGetParallel/cycle). Get does not allocate.
//   - A secondary index ID → keys serves [Cache.InvalidateID]. It is updated
//     before a Set stores its entry and by the LRU's eviction callback
//     (capacity eviction, Remove, Purge, expiry), so it never holds more pairs
//     than the cache holds entries.
//
// # Memory
//
// TestMemoryPerEntry measures about 350 bytes of heap per entry for the cache
// itself (map slot, list element, key, entry, index pair; 100,000 entries,
// Go 1.26, amd64), not counting the value the entry points to or the ID string.
// A verifier cache of the default 10,000 entries thus costs about 3.5 MB plus its
// tokens.
//
// # Concurrency
//
// A Cache is safe for concurrent use by multiple goroutines. It starts no
// goroutines and needs no Close: expired entries are dropped when read or when
// the LRU evicts them.
package cache
