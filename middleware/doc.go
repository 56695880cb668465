// Package middleware is the framework-neutral core of m2mauth's HTTP
// integration: it extracts the bearer token from a request, verifies it with a
// Verifier (usually a *verifier.Verifier), applies this service's policy
// (audience, allowed subjects, custom checks) and maps every failure to an
// RFC 6750 response (status, WWW-Authenticate, Retry-After, a small JSON body).
//
// The framework adapters (adapters/m2mhttp for net/http, adapters/m2mecho and
// adapters/m2mecho5 for Echo v4 and v5, adapters/m2mgin for Gin,
// adapters/m2mgrpc for gRPC, adapters/m2mmcp for MCP servers) call the
// Authenticator and write its Response their own way; this package imports
// no framework.
//
// New fails closed on the audience. With a Clerk secret key (sk_…) Clerk
// verifies a token of any machine of the instance, so New returns
// ErrNoAudience unless WithAudience(this service's machine ID) or the
// explicit opt-out WithAnyAudience is given; with a machine secret key
// (ak_…) Clerk refuses tokens not granted to that machine and no audience is
// needed. A Verifier tells New which case it is with an EnforcesAudience
// method, as *verifier.Verifier has; any other Verifier is treated like an
// sk_ one. WithAudience("") means no audience, so
// WithAudience(os.Getenv("M2M_AUDIENCE")) works with either key.
//
// An Authenticator accepts M2M tokens only, unless WithAccept names other
// kinds of Clerk machine credentials (API keys, OAuth access tokens); a token
// of another kind is refused 401 invalid_token without a call to Clerk. The
// audience concerns M2M tokens and is required only where they are accepted;
// WithRequiredScopes concerns API keys and OAuth tokens, refused 403
// insufficient_scope with RFC 6750's scope attribute naming the scopes
// required; WithAllowedSubjects and WithCheck see every kind (Token.Kind).
// With a machine secret key (ak_…), an Authenticator cannot accept API keys
// or OAuth tokens: New says so.
//
// Every request's source — the client's IP (RemoteIP, an IPv6 address by its
// /64), or what WithSourceFunc says behind a trusted proxy; X-Forwarded-For is
// never trusted by default — goes to the Verifier with the token, so that the
// calls to Clerk that one source's cache misses cause come out of its own
// budget (verifier.Limits.SourceRate): it is Verify's source argument.
//
// Other transports come in through AuthenticateBearer, the same path without
// the *http.Request: adapters/m2mgrpc hands it the gRPC metadata
// "authorization" (read by BearerToken's rules) and names the peer by
// RemoteIP's rules, so the policy, the verdicts, the logging and the budget
// of a source are one whichever door a request used.
//
// For the tests of a service's handlers, NewContext puts a token in a
// request's context as an adapter would, and VerifierFunc makes a fake
// Verifier; package clerktest emulates Clerk for tests end to end.
//
// Logging and audit are off by default. WithLogger logs each refusal at Debug
// (status, code, reason, source, and the subject and token ID once the token
// was verified; never the token); WithOnSuccess calls a hook with each request
// let through with a token, for audit lines.
//
// An Authenticator is immutable after New and safe for concurrent use by
// multiple goroutines, provided its Verifier and the callbacks given as
// options are too.
//
// Status codes:
//
//	no/malformed Authorization header   401  WWW-Authenticate: Bearer realm="…"
//	invalid, expired, revoked token     401  Bearer realm="…", error="invalid_token"
//	token of a kind not accepted here    401  Bearer realm="…", error="invalid_token" (no call to Clerk)
//	policy refusal (scope, subject…)    403  Bearer realm="…", error="insufficient_scope"[, scope="…"]
//	source over its budget of misses    429  Retry-After: <seconds>
//	Clerk unavailable (5xx, 429, net)   503  Retry-After: <seconds>
//	Clerk refused our key, other errors 500
//	the client went away while waiting  499  (nothing useful can reach the client)
//
// Every error response carries Cache-Control: no-store and a JSON body
// {"error": "…", "error_description": "…"} that never contains the token.
// Every header it writes is printable ASCII: a reason is spelled in ASCII
// ('…' as "...", typographic quotes as "'", other characters as '?'), and the
// body's error_description carries the same text as the header's.
package middleware
