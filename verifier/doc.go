// Package verifier authenticates M2M tokens issued by Clerk: [Verifier.Verify]
// turns a bearer token into a [Token] or an error of the taxonomy below, asking
// Clerk's Backend API (POST /m2m_tokens/verify) as rarely as it safely can.
//
// # The path of a call
//
//  1. A local syntax check: an empty token, one over [MaxTokenLength] bytes, one
//     with characters outside RFC 6750's b64token set, or one that is neither
//     mt_… (with a plausible length) nor JWT-shaped (three non-empty base64url
//     segments) is invalid at once: no network call, no cache entry, no
//     allocation.
//  2. The cache key is SHA-256(token). Raw tokens are never stored or logged.
//  3. The cache (package cache: sharded LRU, per-entry expiry) answers a live
//     positive entry with its Token and a negative one with ErrInvalidToken.
//     A hit does not allocate and takes no exclusive lock.
//  4. On a miss, the back-off gate: if Clerk has answered 429, or a 5xx
//     carrying Retry-After, less than min(Retry-After, [WithMaxBackoff])
//     ago (default cap 60 s, on the Verifier's clock), the miss gets
//     ErrUnavailable at once ([ErrBackoff]; [RetryAfter] is the time left,
//     rounded up to whole seconds) and Clerk is not called. Cache hits (step
//  3. are unaffected; a 5xx without Retry-After, a timeout or a network
//     failure starts no back-off.
//  5. Concurrent callers of one token share a single call
//     (golang.org/x/sync/singleflight). The call runs detached from the
//     callers' contexts (context.WithoutCancel) under its own timeout
//     ([WithTimeout]); each caller waits only as long as its own context lets
//     it and then returns ctx.Err().
//  6. Upstream: POST /m2m_tokens/verify through package clerkapi, with one
//     immediate retry when the connection failed before any answer.
//  7. The answer is cached: a valid token for min([WithTTL], its expiry − now),
//     then refused locally once expired; a refusal (Clerk's 404, or a 200 that
//     says revoked or expired, or an expiry past on our clock) for
//     [WithNegativeTTL]. Transient failures are never cached.
//
// JWT-format M2M tokens are verified through Clerk like opaque ones; verifying
// them locally against the instance's JWKS (no network call, no price per
// verification) is a later step.
//
// # Errors
//
// Every error matches exactly one of [ErrInvalidToken] (401: malformed,
// unknown, revoked, expired, not granted to this machine), [ErrUnavailable]
// (503: network error, timeout, 5xx, 429, unreadable or oversized answer,
// back-off after a 429, closed Verifier; [RetryAfter] gives Clerk's
// Retry-After, or the time left of the back-off) and
// [ErrMisconfigured] (500: Clerk refused our own key; logged once at Error
// level), or is the caller's ctx.Err() unwrapped. Clerk's *clerkapi.APIError
// stays reachable with errors.As. No error string or log line contains a token
// or a key.
//
// With a Clerk secret key (sk_…) Clerk verifies any token of the instance: the
// receiver must check the token's scopes itself ([Token.HasScope]). With a
// machine secret key (ak_…) Clerk refuses tokens not granted to that machine.
//
// # Memory
//
// The cache holds at most [WithCacheSize] entries whatever the traffic sends;
// garbage never enters it. TestMemoryPerToken measures about 650 bytes of heap
// per cached token (cache entry plus Token with ID, subject and one scope; Go
// 1.26, amd64): about 6 MB for the default 10,000 entries.
//
// # Concurrency
//
// A [Verifier] is safe for concurrent use by multiple goroutines. The only
// goroutines it starts are singleflight's, one per call to Clerk in flight, each
// bounded by the timeout and cancelled by [Verifier.Close].
package verifier
