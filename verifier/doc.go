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
//     A hit does not allocate; it holds one of the cache's shard locks briefly.
//  4. On a miss, the back-off gate: if Clerk has answered 429, or a 5xx
//     carrying Retry-After, less than min(Retry-After, [WithMaxBackoff])
//     ago (default cap 60 s, on the Verifier's clock), the miss gets
//     ErrUnavailable at once ([ErrBackoff]; [RetryAfter] is the time left,
//     rounded up to whole seconds) and Clerk is not called. Cache hits and
//     JWTs verified locally are unaffected; a 5xx without Retry-After, a
//     timeout or a network failure starts no back-off.
//  5. Concurrent callers of one token share a single call
//     (golang.org/x/sync/singleflight). The call runs detached from the
//     callers' contexts (context.WithoutCancel) under its own timeout
//     ([WithTimeout]); each caller waits only as long as its own context lets
//     it and then returns ctx.Err().
//  6. Upstream: POST /m2m_tokens/verify through package clerkapi, with one
//     immediate retry when the connection failed before any answer. A
//     JWT-format token verified with a Clerk secret key is checked locally
//     instead (see below): no call to the verify endpoint.
//  7. The answer is cached: a valid token for min([WithTTL], its expiry − now),
//     then refused locally once expired; a refusal (Clerk's 404, or a 200 that
//     says revoked or expired, or an expiry past on our clock, or a failed
//     local JWT check) for [WithNegativeTTL]. Transient failures are never
//     cached.
//
// # JWT-format tokens
//
// With a Clerk secret key (sk_…) and [WithLocalJWT] not false (the default),
// a JWT-format M2M token is verified without Clerk's verify endpoint, which
// saves its round trip and its price per verification:
//
//   - The keys come from GET /jwks (package clerkapi), fetched by the first JWT
//     that needs them, once for all concurrent callers, detached from their
//     contexts, bounded by [WithTimeout] and cancelled by Close. They are used
//     for [JWKSTTL] (5 minutes, on the Verifier's clock), then fetched again.
//     A kid missing from a fresh set makes the next fetch come early, but at
//     most once per [JWKSMinRefetch] (30 s): a flood of made-up kids costs
//     Clerk nothing more. A failed fetch keeps the previous keys usable, with
//     one retry per JWKSMinRefetch, for up to [JWKSMaxStale] after they were
//     fetched; with no usable keys a JWT is ErrUnavailable (or
//     ErrMisconfigured when Clerk refuses our key), never invalid, and nothing
//     is cached.
//   - The token (go-jose v4) must be a compact JWS with alg RS256 and a kid of
//     the set, a valid signature, a "cat" header equal to [JWTCategory] when
//     present (older tokens lack it), a machine ID (mch_…) as sub and a token
//     ID (mt_…) as jti; exp (absent: never expires), nbf and iat are checked
//     with [JWTLeeway] (5 s) of clock skew on the Verifier's clock. Any failure
//     is an *InvalidTokenError with a short reason ("bad JWT signature",
//     "token expired", "JWT signed by an unknown key"…), cached for
//     WithNegativeTTL.
//   - The Token: ID = jti, Subject = sub, Scopes from the "scopes" claim
//     (space-separated) or else "aud", ExpiresAt = exp, CreatedAt = iat,
//     Format jwt, Claims = the payload minus iss sub aud exp nbf iat jti
//     scopes (nil when nothing remains), as Clerk's verify endpoint gives.
//     It is cached like Clerk's answer, until min(WithTTL, exp + JWTLeeway).
//
// Clerk does not check a locally verified JWT's scopes: the receiver must
// (middleware.WithAudience, [Token.HasScope]), as with any verification with a
// Clerk secret key. JWTs cannot be revoked at Clerk, so nothing is lost by
// not asking it. With a machine secret key (ak_…), or WithLocalJWT(false),
// JWTs go to Clerk's verify endpoint like opaque tokens (with ak_, Clerk
// enforces that the token was granted to that machine).
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
// goroutines it starts are singleflight's, one per cold token being verified
// (a call to Clerk or a local JWT check), each bounded by the timeout and
// cancelled by [Verifier.Close].
package verifier
