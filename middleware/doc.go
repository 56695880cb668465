// Package middleware is the framework-neutral core of m2mauth's HTTP
// integration: it extracts the bearer token from a request, verifies it with a
// Verifier (usually a *verifier.Verifier), applies this service's policy
// (audience, allowed subjects, custom checks) and maps every failure to an
// RFC 6750 response (status, WWW-Authenticate, Retry-After, a small JSON body).
//
// The framework adapters (adapters/m2mhttp for net/http, adapters/m2mecho and
// adapters/m2mecho5 for Echo v4 and v5, adapters/m2mgin for Gin,
// adapters/m2mgrpc for gRPC) call the Authenticator and write its Response
// their own way; this package imports no framework.
//
// New fails closed on the audience. With a Clerk secret key (sk_…) Clerk
// verifies a token of any machine of the instance, so New returns
// ErrNoAudience unless WithAudience(this service's machine ID) or the
// explicit opt-out WithAnyAudience is given; with a machine secret key
// (ak_…) Clerk refuses tokens not granted to that machine and no audience is
// needed. A Verifier tells New which case it is by implementing
// AudienceEnforcer, as *verifier.Verifier does; any other Verifier is treated
// like an sk_ one. WithAudience("") means no audience, so
// WithAudience(os.Getenv("M2M_AUDIENCE")) works with either key.
//
// Every request's source — the client's IP (RemoteIP, an IPv6 address by its
// /64), or what WithSourceFunc says behind a trusted proxy; X-Forwarded-For is
// never trusted by default — goes to the Verifier with the token, so that the
// calls to Clerk that one source's cache misses cause come out of its own
// budget (verifier.WithSourceBudget). A *verifier.Verifier (a SourceVerifier)
// takes it as an argument, any other Verifier in the context
// (verifier.WithSource).
//
// Other transports come in through AuthenticateToken, the same path without
// the *http.Request: adapters/m2mgrpc takes the token out of the gRPC metadata
// with ParseBearer (BearerToken's rules) and names the peer with AddrSource
// (RemoteIP's rules), so the policy, the verdicts and the budget of a source
// are one whichever door a request used.
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
//	policy refusal (scope, subject…)    403  Bearer realm="…", error="insufficient_scope"
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
