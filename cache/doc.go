// Package cache is a bounded, sharded LRU cache with a per-entry expiry, built
// for m2mauth's verifier: keys are fixed-size hashes ([Key], the SHA-256 of a
// token, so no raw token is ever stored), values are positive results or
// negative ones (Entry.Negative: a remembered refusal), and each entry carries
// its own expiry, because a token's cached validity must never outlive the
// token.
//
// # Design
//
// The cache reads like github.com/hashicorp/golang-lru/v2, which it is built on:
//
//   - N shards, picked from the key's first 8 bytes; each is a sync.Mutex
//     around golang-lru's simplelru LRUs. Get, Peek, Set and Remove lock one
//     shard; nothing slow runs under the lock.
//   - Positive and negative entries live apart: each shard has one LRU for
//     each, and a key is in at most one of them. Set evicts only within the
//     entry's own part, so any number of negative entries (junk tokens, tokens
//     Clerk refused) cannot evict a positive one.
//   - golang-lru's expirable LRU has one TTL for all entries, so the expiry is
//     stored in the entry and compared on Get and Peek with an injectable clock
//     ([WithClock]); an expired entry is a miss, and Get removes it.
//   - [Cache.Retire] retires every positive entry at once, in O(1), by
//     starting a new generation: an entry stored in an earlier one is a miss
//     for Get and Peek until Set replaces it, but stays in place, so that
//     [Cache.Retired] can tell that its key was valid a moment ago. Get pays
//     one atomic load for it.
//   - An index ID → keys serves [Cache.InvalidateID]. Set updates it and the
//     LRUs' eviction callback (capacity eviction, Remove, Purge, expiry) drops
//     pairs from it, so it never holds more pairs than the cache holds entries.
//
// # Bounds and defaults
//
// [New] takes the total size. Of it, the negative part holds a quarter, rounded
// up (at most size−1; see [WithNegativeSize]) and the positive part the rest.
// Each part is split exactly between the shards, so Len never exceeds the size,
// whatever is inserted. The default shard count is the smallest power of two
// ≥ 4×GOMAXPROCS, at least 16 and at most 256, lowered for small sizes so that
// every shard has room in each part.
//
// Get does not allocate. Stats counts hits, negative hits and misses.
//
// # Concurrency
//
// A Cache is safe for concurrent use by multiple goroutines. It starts no
// goroutines and needs no Close: expired entries are dropped when read or when
// the LRU evicts them.
package cache
