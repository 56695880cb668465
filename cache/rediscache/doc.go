// Package rediscache is a shared, second-level cache for m2mauth's Verifier
// on Redis (or Valkey), through go-redis's redis.UniversalClient: standalone,
// Sentinel (redis.NewFailoverClient) and Cluster (redis.NewClusterClient)
// alike. Plug it in with verifier.WithSharedCache:
//
//	sc, rdb, err := rediscache.NewFromURL("redis://127.0.0.1:6379/0")
//	…
//	defer rdb.Close() // after the Verifier's Close
//	v, err := verifier.New(secretKey, verifier.WithSharedCache(sc))
//
// or, with a client of your own (Sentinel, Cluster), the options New
// requires:
//
//	rdb := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster",
//		SentinelAddrs: addrs, ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1})
//	sc, err := rediscache.New(rdb)
//
// With it, the replicas of a service share what Clerk answered (one call per
// token and TTL for the whole cluster). A replica's concurrent misses of a
// token share one round trip, a small Lua script that reads the token's
// entry or, if there is none, takes its lock (SET NX PX); the replica that
// holds the lock asks Clerk, then writes the entry, releases the lock and
// publishes the result in one pipelined round trip, and the replicas that
// found the lock taken get the result from that message (or read again every
// 25 ms if it is lost). Replicas hear each other's Invalidate / InvalidateID
// and Clerk's requests to back off over pub/sub, and retire their own cache
// whenever their subscription is (re)established (no token cached before is
// served until Redis or Clerk confirms it), since they may have missed a
// revocation. An entry and its lock share a hash tag, so that a Cluster
// keeps them on one slot; entries of different tokens spread over the slots.
//
// What it stores is opaque to it: the Verifier names entries by a
// fingerprint of its secret key and a keyed hash of the token (never a token
// or a key), and authenticates every value and message with HMAC-SHA-256
// under a key derived from its secret key (HKDF), so that whoever can write
// to Redis cannot forge a valid result. An entry that does not authenticate,
// is over 64 KiB (refused unread: the script checks STRLEN first), or
// predates a revocation is ignored and counted (verifier.Stats.SharedRejected);
// see package verifier for the whole list of what a hostile Redis can and
// cannot do. A pub/sub message is read whole by go-redis before it can be
// refused: what Redis sends a subscriber is bounded by its
// client-output-buffer-limit for pubsub (32 MB by default; lower it to bound a
// hostile publisher further).
//
// The shared cache's part of one miss — read-or-lock, the wait for another
// replica's result, the write — is bounded by one budget (WithTimeout,
// default DefaultTimeout, 1 s): a miss that gets nothing from Redis in that
// time goes on without it. With the options New requires, a Redis that
// refuses connections is detected at once (no timeout paid, no retry); a
// pool with no free connection in time is busy (verifier.Stats.SharedBusy),
// never an outage. A Redis that stops answering without refusing (hung,
// paused, partitioned) costs the misses under way their budget; once it is
// declared down, one miss at a time tries it again (every budget and 500 ms),
// the others go on without it, and the revocations kept meanwhile are sent
// as soon as a call works. Redis being down, slow, restarted, failing over,
// evicting (maxmemory) or returning garbage never lets a token through and
// never fails a request by itself; the Verifier logs each outage once with
// its cause (connection refused, i/o timeout) and once when it ends.
// go-redis reconnects by itself; the subscription is retried with a back-off
// capped at 1 s. go-redis also writes its own line for each failed dial of
// its pool ("redis: connection pool: failed to dial …") through its
// process-wide logger; this package leaves that global alone: silence or
// redirect it with redis.SetLogger if you want only the Verifier's lines.
//
// Options and defaults:
//   - WithTimeout: the budget of one miss on Redis; DefaultTimeout (1 s).
//   - WithPrefix: prefix of every key and channel; DefaultPrefix ("m2mauth:"),
//     followed by the secret key's fingerprint, so that staging and
//     production, and each secret key, may share one Redis.
//
// Concurrency: a *Cache is safe for concurrent use. Each Subscribe starts one
// goroutine, which its stop function ends and waits for (the Verifier calls it
// in Close). The Cache does not own the client: close it yourself after the
// Verifiers that use it.
package rediscache
