// Package rediscache is a shared, second-level cache for m2mauth's Verifier
// on Redis (or Valkey), through go-redis's redis.UniversalClient: standalone,
// Sentinel and Cluster alike. Plug it in with verifier.WithSharedCache:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
//	sc, err := rediscache.New(rdb)
//	…
//	v, err := verifier.New(secretKey, verifier.WithSharedCache(sc))
//
// With it, the replicas of a service share what Clerk answered (one call per
// token and TTL for the whole cluster), take a short lock per cold token
// (SET NX PX) so that concurrent misses on several replicas cost one call,
// hear each other's Invalidate / InvalidateID and Clerk's requests to back
// off over pub/sub, and empty their own cache whenever their subscription is
// (re)established, since they may have missed a revocation.
//
// What it stores is opaque to it: the Verifier names entries by a
// fingerprint of its secret key and a keyed hash of the token (never a token
// or a key), and authenticates every value and message with HMAC-SHA-256
// under a key derived from its secret key (HKDF), so that whoever can write
// to Redis cannot forge a valid result. An entry that does not authenticate is
// ignored and counted (verifier.Stats.SharedRejected).
//
// Every call to Redis is bounded by WithTimeout (default DefaultTimeout,
// 50 ms). New refuses a *redis.Client or *redis.ClusterClient that would not
// honour it: one needs ContextTimeoutEnabled, or read and write timeouts
// within it. A failed or slow call is an error to the Verifier, which then
// carries on with its own cache and Clerk: Redis being down, slow, restarted,
// evicting (maxmemory) or returning garbage never lets a token through and
// never fails a request by itself. go-redis reconnects by itself; the
// subscription is retried with a capped back-off.
//
// Options and defaults:
//   - WithTimeout: bound on each Redis call; DefaultTimeout (50 ms).
//   - WithPrefix: prefix of every key and channel; DefaultPrefix ("m2mauth:"),
//     followed by the secret key's fingerprint, so that staging and
//     production, and each secret key, may share one Redis.
//
// Concurrency: a *Cache is safe for concurrent use. Each Subscribe starts one
// goroutine, which its stop function ends and waits for (the Verifier calls it
// in Close). The Cache does not own the client: close it yourself after the
// Verifiers that use it.
package rediscache
