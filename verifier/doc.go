// Package verifier authenticates M2M tokens issued by Clerk: [Verifier.Verify]
// turns a bearer token into a [Token] or an error of the taxonomy below, asking
// Clerk's Backend API (POST /m2m_tokens/verify) as rarely as it safely can.
//
// # The path of a call
//
//  1. A local syntax check: an empty token, one over [MaxTokenLength] bytes
//     (32 KiB: Clerk's JWTs reach about 14 KB for a machine scoped to 150
//     machines), one with characters outside RFC 6750's b64token set, or one
//     that is neither mt_… (16 to 256 alphanumerics after the prefix) nor
//     JWT-shaped (three non-empty base64url segments) is invalid at once: no
//     network call, no cache entry, no allocation.
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
//     timeout or a network failure starts no back-off. Every RetryAfter the
//     Verifier returns, the first answer's included, is at most
//     WithMaxBackoff (DefaultMaxBackoff when the gate is disabled): Clerk's
//     Retry-After: 3600 reaches the caller as 60 s by default.
//  5. Admission: a miss that would cost a call to Clerk's verify endpoint is
//     admitted only within the Verifier's bounds, and refused otherwise
//     without a call or a connection:
//     - the breaker ([WithBreaker]: after 5 consecutive timeouts, network
//     failures or 5xx, misses get ErrUnavailable ([ErrBreakerOpen]) at once
//     for a 10 s cool-down, then one probe at a time);
//     - the budget of the request's source ([WithSourceBudget], 5 calls/s
//     with a burst of 20, per source in a bounded LRU of [WithMaxSources];
//     the source comes from [VerifyFrom] or [WithSource], the middleware
//     gives the client's IP): over it, [ErrRateLimited] (a 429);
//     - the overall budget ([WithCallBudget], 50 calls/s, burst 100) and the
//     cap on calls in flight ([WithMaxInFlight], 32, each waiting at most
//     [WithQueueWait], 100 ms, for a slot): ErrUnavailable ([ErrOverloaded]).
//     Budgets are charged once per call (per flight), never per waiting
//     request, and never for cache hits or JWTs verified locally.
//  6. Concurrent callers of one token share a single call
//     (golang.org/x/sync/singleflight). The call runs detached from the
//     callers' contexts (context.WithoutCancel) under its own timeout
//     ([WithTimeout]); each caller waits only as long as its own context lets
//     it and then returns ctx.Err().
//  7. Upstream: POST /m2m_tokens/verify through package clerkapi, with one
//     immediate retry when the connection failed before any answer.
//     Redirects are not followed. A JWT-format token verified with a Clerk
//     secret key is checked locally instead (see below): no call to the
//     verify endpoint.
//  8. The answer is cached: a valid token for min([WithTTL], its expiry − now),
//     then refused locally once expired; a refusal (Clerk's 404 with its
//     error JSON, or a 200 that says revoked or expired, or an expiry past on
//     our clock, or a failed local JWT check) for [WithNegativeTTL]. Transient
//     failures and misconfigurations are never cached.
//
// # Refresh-ahead
//
// A cached token used during the last [WithRefreshAhead] fraction of its TTL
// (the last fifth by default) is verified again in the background, by one
// call that shares the token's flight and passes admission like any other
// (charged to no source). The request that notices is answered from the
// cache at once, so a token in steady use never waits for Clerk. The new
// answer replaces the entry: a fresh TTL, or a refusal (a revocation seen
// before the TTL would show it). A refresh that gets no verdict leaves the
// entry until it ends, never past it. An entry that ends with the token's own
// expiry is not refreshed.
//
// # Only Clerk says a token is invalid
//
// A 404 (or 400, 422) means "token invalid" only when its body is Clerk's
// error JSON: an "errors" array with at least one non-empty "code"
// ([clerkapi.APIError.IsClerkError]). Any other answer — an HTML or plain
// 404, JSON of another shape, a redirect (3xx; never followed), any other 4xx
// without Clerk's error JSON — shows that the base URL is not Clerk's Backend
// API: ErrMisconfigured ([ReasonNotClerk]), a 500 at the middleware, logged
// once, never cached, never 401. Clerk's 401/403 to our key is
// ErrMisconfigured too ([ReasonKeyRefused]). Both are logged once per
// Verifier at Error level, through the WithLogger logger or, without one,
// slog.Default() as it is when the line is written; the key is never
// printed.
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
//     Whatever the state — a kid missing from a fresh set, no keys yet, keys
//     older than [JWKSMaxStale], Clerk failing, refusing our key or answering
//     429 — there is at most one GET /jwks per [JWKSMinRefetch] (30 s), or per
//     Clerk's Retry-After (a 429, or a 5xx carrying one) capped by
//     WithMaxBackoff when that is longer: a flood of JWTs costs Clerk nothing
//     more. Between two fetches a JWT that needs keys it cannot get is refused
//     at once with the last fetch's error (ErrUnavailable with the time until
//     the next fetch as RetryAfter, and ErrBackoff after a Retry-After). A
//     failed fetch keeps the previous keys usable for up to JWKSMaxStale after
//     they were fetched; with no usable keys, or a kid missing from keys kept
//     after a failed fetch, a JWT is ErrUnavailable (or ErrMisconfigured when
//     Clerk refuses our key or the base URL is not Clerk), never invalid, and
//     nothing is cached.
//   - The token (go-jose v4) must be a compact JWS with alg RS256 and a kid of
//     the set, a valid signature, a "cat" header equal to [JWTCategory] when
//     present (older tokens lack it), a machine ID (mch_…) as sub, and as jti
//     nothing or mt_ followed by up to 125 base64url characters (Clerk's are
//     32 hex digits or base62); aud may be a string or an array; exp (absent:
//     never expires), nbf (Clerk sends none) and iat are checked with
//     [JWTLeeway] (5 s) of clock skew on the Verifier's clock. Any failure is
//     an *InvalidTokenError with a short reason ("bad JWT signature", "token
//     expired", "JWT signed by an unknown key"…), cached for WithNegativeTTL.
//   - The Token: ID = jti ("" when absent), Subject = sub, Scopes from the
//     "scopes" claim (space-separated) or else "aud", ExpiresAt = exp,
//     CreatedAt = iat,
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
// unknown, revoked, expired, not granted to this machine, as Clerk's error
// JSON says), [ErrUnavailable] (503: network error, timeout, 5xx, 429,
// unreadable or oversized answer, back-off after a 429, breaker open, cap on
// calls in flight or overall budget reached, closed Verifier; [RetryAfter]
// gives Clerk's Retry-After, or the time left of the back-off or cool-down,
// always capped as above), [ErrRateLimited] (429: the request's source spent
// its budget; RetryAfter says when it has one again) and [ErrMisconfigured]
// (500: Clerk refused our own key, or the base URL is not Clerk; logged once
// at Error level), or is the caller's ctx.Err() unwrapped. Clerk's *clerkapi.APIError stays reachable
// with errors.As. No error string or log line contains a token or a key.
//
// New refuses a string that is not a usable secret key with an error matching
// [ErrSecretKey] that says what to fix (empty; white space or a newline
// around it: trim it; a publishable key pk_…: use the secret key; an unknown
// prefix), without any part of the key. A key's tail may hold any printable
// ASCII but space.
//
// With a Clerk secret key (sk_…) Clerk verifies any token of the instance: the
// receiver must check the token's scopes itself ([Token.HasScope]). With a
// machine secret key (ak_…) Clerk refuses tokens not granted to that machine.
//
// # Bounds
//
// Whatever the traffic sends: the cache holds at most [WithCacheSize] entries
// (garbage never enters it; tokens Clerk refused have their own part, so
// junk cannot evict a valid token); the per-source budgets at most
// [WithMaxSources] sources; calls to Clerk are bounded by the budgets and the
// cap above. BENCHMARKS.md gives the measured memory per entry.
//
// # Watching it
//
// [Verifier.Stats] returns its counters (read them at scrape time: the
// modules metrics/m2mprom and metrics/m2motel do). [WithObserver] adds what
// counters cannot say: the start and end of each miss and of each call to
// Clerk (verify, JWKS), with a context for spans, an [Outcome], the HTTP
// status and the duration; never a token, key, subject or source. A cache hit
// tells the Observer nothing. [Verifier.Ready] is for readiness probes: it
// reports a misconfigured key or an unreachable Clerk, with a free call to
// Clerk at most once per [ReadyTTL] (Clerk secret key) or none at all
// (machine key: what the Verifier has seen).
//
// # Concurrency
//
// A [Verifier] is safe for concurrent use by multiple goroutines. The
// goroutines it starts are singleflight's, one per cold token being verified
// (a call to Clerk or a local JWT check; a miss refused by admission ends its
// at once), and one per background refresh; each is bounded by the timeout
// and cancelled by [Verifier.Close], which waits for the refreshes. With
// [WithSharedCache], one more goroutine (the SharedCache's subscription)
// lives until Close, which stops it.
package verifier
