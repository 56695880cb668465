// Package verifier authenticates Clerk's machine credentials — M2M tokens, API
// keys and OAuth access tokens ([Kind]) — through one path:
// [Verifier.Verify] turns a bearer token into a [Token] or an error of the
// taxonomy below, asking Clerk's Backend API (the verify endpoint of the
// token's kind) as rarely as it safely can.
//
//	v, err := verifier.New(os.Getenv("CLERK_SECRET_KEY"))
//	…
//	tok, err := v.Verify(ctx, bearerToken, clientIP)
//
// Most services never call Verify themselves: package middleware and its
// adapters do, per request.
//
// # The path of a call
//
//  1. A local syntax check: an empty token, one over 32 KiB (Clerk's JWTs
//     reach about 14 KB for a machine scoped to 150 machines), one with
//     characters outside RFC 6750's b64token set, or one that is neither
//     mt_… (16 to 256 alphanumerics after the prefix), ak_… or oat_… (16 to
//     256 b64token characters but '.') nor JWT-shaped (three non-empty
//     base64url segments) is invalid at once: no network call, no cache
//     entry, no allocation. The prefix is an opaque token's kind.
//  2. The cache key is SHA-256(token). Raw tokens are never stored or logged.
//  3. The cache (package cache: sharded LRU, per-entry expiry) answers a live
//     positive entry with its Token and a negative one with ErrInvalidToken.
//     A hit does not allocate. A miss goes on to one flight per token
//     (step 5), which looks in the shared cache first ([WithSharedCache]):
//     one round trip reads the entry or, if there is none, takes the token's
//     lock; a replica that finds another's lock waits for that replica's
//     result (the message that carries it), all within the shared cache's
//     budget per miss. A Redis that refuses connections costs no wait.
//  4. Admission of the miss ([Limits]): a miss that would cost a call to
//     Clerk's verify endpoint is refused at once, without a call or a
//     connection, while Clerk has asked to wait (a 429, or a 5xx carrying
//     Retry-After: the back-off gate, Limits.MaxBackoff), while the breaker
//     is open (Limits.BreakerFailures), when the request's source has spent
//     its budget (Limits.SourceRate: [ErrRateLimited], a 429), or when the
//     overall budget or the cap on calls in flight is reached
//     (Limits.CallRate, Limits.MaxInFlight): ErrUnavailable with Retry-After.
//     Budgets are charged once per call (per flight), never per waiting
//     request, and never for cache hits or JWTs verified locally. Part of
//     the overall budget is reserved for calls known to be worth making (see
//     Admission below).
//  5. Concurrent callers of one token share a single flight
//     (golang.org/x/sync/singleflight; across replicas, the shared cache's
//     lock): the shared cache, admission (step 4, once per flight), the
//     call and the store, top to bottom. The call runs detached from the
//     callers' contexts under its own timeout (Limits.Timeout); each caller
//     waits only as long as its own context lets it and then returns
//     ctx.Err().
//  6. Upstream: the verify endpoint of the token's kind through package
//     clerkapi, with one immediate retry when the connection failed before
//     any answer.
//     Redirects are not followed. A JWT-format token verified with a Clerk
//     secret key is checked locally instead (see below).
//  7. The answer is cached: a valid token for min([WithTTL], its expiry − now),
//     then refused locally once expired; a refusal (Clerk's 404 with its
//     error JSON, or a 200 that says revoked or expired, or an expiry past on
//     our clock, or a failed local JWT check) for [WithNegativeTTL]. Transient
//     failures and misconfigurations are never cached. A token in steady use
//     is verified again in the background late in its TTL
//     (Limits.RefreshAhead), so that it never makes a request wait for Clerk.
//     With a shared cache the result is written there too, the lock released
//     and the result handed to the replicas waiting for it, in one round
//     trip; a write that fails is kept and made when the shared cache is back.
//
// # Kinds
//
// Clerk's machine credentials are told apart before any call, as
// @clerk/backend does: mt_… is an M2M token, ak_… an API key, oat_… an OAuth
// access token; a JWT whose sub is a machine (mch_…) is an M2M token, one
// whose header typ is at+jwt (or application/at+jwt) an OAuth access token,
// and any other JWT is invalid (on a miss: telling a JWT's kind decodes it).
// Each kind is verified its own way, with the cache, singleflight,
// admission, breaker, refresh-ahead and shared cache of every kind:
//
//	M2M, opaque      POST /m2m_tokens/verify {"token": …}
//	API key          POST /api_keys/verify {"secret": …}
//	OAuth, opaque    POST /oauth_applications/access_tokens/verify {"access_token": …}
//	M2M or OAuth JWT locally, against the instance's JWKS (with a Clerk secret key)
//
// Clerk's 404 is invalid (remembered), its 401 to our key misconfigured,
// 429 and 5xx unavailable, whatever the kind; a 200 that says revoked,
// expired or (an OAuth token) not active is invalid. Timestamps are Clerk's
// milliseconds. Every call sends Clerk-API-Version (clerkapi.APIVersion).
// API keys and OAuth tokens can be verified with the Clerk secret key (sk_…)
// only: a Verifier on a machine secret key (ak_…) refuses them as invalid,
// without a call ([Verifier.Verifies] tells). A route that accepts only some
// kinds says so to the middleware (middleware.WithAccept), which refuses the
// others without a call to Clerk.
//
// An OAuth JWT must carry typ at+jwt, alg RS256 and a kid of the set, a
// valid signature, exp (required), nbf and iat within 5 s of skew, a user
// (user_…) as sub, a client_id, and as jti nothing or oat_…; its scopes are
// "scp" (an array) or else "scope" (space-separated), its aud the Token's
// Audience.
//
// # Only Clerk says a token is invalid
//
// A 404 (or 400, 422) means "token invalid" only when its body is Clerk's
// error JSON ([clerkapi.APIError.IsClerkError]). Any other answer — an HTML or
// plain 404, JSON of another shape, a redirect, any other 4xx without Clerk's
// error JSON — shows that the base URL is not Clerk's Backend API:
// ErrMisconfigured ([ReasonNotClerk]), a 500 at the middleware, never cached,
// never 401. Clerk's 401/403 to our key is ErrMisconfigured too
// ([ReasonKeyRefused]).
//
// # JWT-format tokens
//
// With a Clerk secret key (sk_…) a JWT-format M2M token is verified without
// Clerk's verify endpoint, which saves its round trip and its price:
//
//   - The keys come from GET /jwks, fetched by the first JWT that needs them,
//     once for all concurrent callers, and used for 5 minutes. Whatever the
//     state — a kid missing from a fresh set, no keys yet, Clerk failing,
//     refusing our key or answering 429 — there is at most one GET /jwks per
//     30 s (longer after a Retry-After): a flood of JWTs costs Clerk nothing
//     more. A failed fetch keeps the previous keys usable for up to an hour;
//     with no usable keys a JWT is ErrUnavailable (or ErrMisconfigured),
//     never invalid, and nothing is cached.
//   - The token (go-jose v4) must be a compact JWS with alg RS256 and a kid of
//     the set, a valid signature, a "cat" header of Clerk's M2M category when
//     present (older tokens lack it), a machine ID (mch_…) as sub, and as jti
//     nothing or mt_ and up to 125 base64url characters; aud may be a string
//     or an array; exp (absent: never expires), nbf and iat are checked with
//     5 s of clock skew on the Verifier's clock.
//   - The Token: ID = jti, Subject = sub, Scopes from the "scopes" claim
//     (space-separated) or else "aud", ExpiresAt = exp, CreatedAt = iat,
//     Format jwt, Claims = the payload minus iss sub aud exp nbf iat jti
//     scopes (nil when nothing remains), as Clerk's verify endpoint gives.
//
// Clerk does not check a locally verified JWT's scopes: the receiver must
// (middleware.WithAudience, [Token.HasScope]), as with any verification with a
// Clerk secret key. JWTs cannot be revoked at Clerk, so nothing is lost by
// not asking it. With a machine secret key (ak_…), which cannot read the
// JWKS, JWTs go to Clerk's verify endpoint like opaque tokens, and Clerk
// enforces that the token was granted to that machine.
//
// # Errors
//
// Every error matches exactly one of [ErrInvalidToken] (401), [ErrUnavailable]
// (503: network error, timeout, 5xx, 429, unreadable or oversized answer,
// back-off after a 429, breaker open, cap on calls in flight or overall budget
// reached, closed Verifier), [ErrRateLimited] (429: the request's source spent
// its budget) and [ErrMisconfigured] (500), or is the caller's ctx.Err()
// unwrapped. [RetryAfter] gives the wait an error carries: Clerk's
// Retry-After, or the time left of the back-off or cool-down, never more than
// Limits.MaxBackoff (Clerk's Retry-After: 3600 reaches the caller as 60 s by
// default). Clerk's *clerkapi.APIError stays reachable with errors.As. No
// error string or log line contains a token or a key.
//
// New refuses a string that is not a usable secret key with an error matching
// [ErrSecretKey] that says what to fix, without any part of the key.
//
// # Admission
//
// The overall budget (Limits.CallRate, CallBurst) is cut in two shares. The
// reserved share (Limits.ReservedShare, half by default) is for the calls
// known to be worth making:
//
//   - misses of a source in good standing: one whose last miss ended with a
//     valid token, less than Limits.StandingTTL ago (24 h by default), and
//     none since with a refused one. Up to Limits.MaxSources such sources
//     are remembered, apart from the per-source budgets, and only a valid
//     token gets a source in, so a flood of addresses cannot push one out;
//   - refills: a token that was cached when the shared cache's
//     subscription came back (see [WithSharedCache]); its miss is charged to
//     no source, and is on the reserved share for the first re-subscription
//     in any 10 s (those after it within the 10 s get the unreserved share,
//     so that a subscription that flaps cannot crowd out new tokens);
//   - background refreshes (Limits.RefreshAhead).
//
// The unreserved share is for every other miss, dealt out round-robin: a
// source that keeps asking (in two consecutive 2 s windows) takes a place in
// line, and as tokens come the source at the head gets one, held for it
// until it next asks, so that each source gets one call per round, whether
// it asks once a second or a thousand times; an address seen once, or again
// only after a gap, never joins the line. The upper half of the reserved
// share goes to anybody, first come, first served, and so does the
// unreserved share's when nobody is in line, so that nothing is wasted while
// nobody is short; the rest of the reserved share goes only to the calls
// entitled to it.
//
// What that gives under a flood of junk from N addresses with no valid
// history: sources in good standing keep the reserved share (its whole rate
// and half its burst), whatever N; one flooding address gets one call per
// round, not the others' (a flood that rotates addresses only competes for
// the upper halves); a source with a valid history sees its new tokens
// verified as if there were no flood; a source that is new during the flood
// gets its first call once it has stayed (up to 4 s) and its turn has come,
// about N ÷ (the unreserved share's rate) later, and if its token is valid
// it is then in good standing. A source that presents a valid token and
// then junk loses its good standing at the first refused token: per valid
// token it gets at most its per-source burst of junk on the reserved share. Refusals are ErrUnavailable with a Retry-After that says
// when the source's turn should come; [Stats] counts admissions and
// refusals by share. Clerk never sees more than the overall budget's burst
// plus its rate over any interval.
//
// # Bounds
//
// Whatever the traffic sends: the cache holds at most [WithCacheSize] entries
// (garbage never enters it; tokens Clerk refused have their own part, so
// junk cannot evict a valid token); the per-source budgets at most
// Limits.MaxSources sources, and the sources in good standing as many; calls
// to Clerk are bounded by the budgets and the cap above. BENCHMARKS.md gives the measured memory per entry.
//
// # Watching it
//
// [Verifier.Stats] returns its counters (read them at scrape time: the
// modules metrics/m2mprom and metrics/m2motel do). [WithObserver] adds the
// start and end of each miss and of each call to Clerk, for spans and
// histograms; a cache hit tells it nothing. [Verifier.Ready] is for readiness
// probes. Without [WithLogger], the Warn and Error lines go to slog.Default():
// a misconfiguration once, each outage of Clerk or of the shared cache once
// when it starts (with its cause) and once when it ends; never per request.
//
// # Concurrency
//
// A [Verifier] is safe for concurrent use by multiple goroutines. The
// goroutines it starts are singleflight's, one per cold token being verified
// (a miss refused by admission ends its at once), and one per background
// refresh; each is bounded by the timeout and cancelled by [Verifier.Close],
// which waits for the refreshes. With [WithSharedCache], one more goroutine
// (the SharedCache's subscription) lives until Close, which stops it; what a
// replica remembers for the shared cache is bounded: 65,536 revocations (each
// for its TTL), 65,536 message nonces (20 s each), 256 pending writes and 256
// pending revocations.
//
// # A shared cache that cannot be trusted
//
// Whoever can write to the shared cache without the secret key may cost
// calls to Clerk, never make a refused or revoked token pass on a replica
// that heard the revocation, nor stall a verification beyond the budget:
// values and messages are authenticated and bound to their names; a value or
// message over 64 KiB is refused (a value unread); an entry is trusted for at
// most this replica's own TTL from when it was verified; entries verified
// before a revocation this replica heard of (within 1 s of clock skew) are
// refused, whether or not Redis still holds them; messages older than 10 s,
// or heard before (their nonce), are dropped; a lock without an expiry is
// taken over. A replica started after a revocation did not hear it: an old
// genuine entry written back may be accepted by it until that entry's
// verification time plus the replica's TTL, never longer.
package verifier
