// Package clerkapi is a small typed client for Clerk's machine-to-machine (M2M)
// token endpoints of the Backend API: create, list, revoke and verify M2M tokens,
// and fetch the instance's JSON Web Key Set.
//
// The wire types follow Clerk's OpenAPI specification field by field. Timestamps,
// which Clerk sends as milliseconds since the epoch, are exposed as [Timestamp]
// values wrapping [time.Time]; a JSON null becomes the zero time.
//
// Every answer other than 2xx becomes an [*APIError] carrying the status code,
// Clerk's error list, its trace ID and any Retry-After. Response bodies are read
// through a size limit, and neither the secret key nor a token value ever appears
// in an error string.
//
// A [Client] is safe for concurrent use by multiple goroutines.
package clerkapi
