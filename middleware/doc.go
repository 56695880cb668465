// Package middleware is the framework-neutral core of m2mauth's HTTP
// integration: it extracts the bearer token from a request, verifies it with a
// Verifier (usually a *verifier.Verifier), applies this service's policy
// (audience, allowed subjects, custom checks) and maps every failure to an
// RFC 6750 response (status, WWW-Authenticate, Retry-After, a small JSON body).
//
// The framework adapters (adapters/m2mhttp, adapters/m2mecho, adapters/m2mgin)
// call Authenticator.Authenticate and write Authenticator.Response their own
// way; this package imports no web framework.
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
//	Clerk unavailable (5xx, 429, net)   503  Retry-After: <seconds>
//	Clerk refused our key, other errors 500
//	the client went away while waiting  499  (nothing useful can reach the client)
//
// Every error response carries Cache-Control: no-store and a JSON body
// {"error": "…", "error_description": "…"} that never contains the token.
package middleware
