// Package clerkapi is a small typed client for the Backend API endpoints that
// Clerk's machine credentials use: create, list, revoke and verify
// machine-to-machine (M2M) tokens, verify API keys and OAuth access tokens,
// and fetch the instance's JSON Web Key Set.
//
// The wire types follow Clerk's OpenAPI specification, version [APIVersion],
// field by field, and every request says so in its Clerk-API-Version header. Timestamps,
// which Clerk sends as milliseconds since the epoch, are exposed as [Timestamp]
// values wrapping [time.Time]; a JSON null becomes the zero time.
//
// Every answer other than 2xx becomes an [*APIError] carrying the status code,
// Clerk's error list, its trace ID and any Retry-After;
// [APIError.IsClerkError] tells Clerk's error JSON from any other body (an
// HTML page, a proxy's JSON), which did not come from Clerk. A redirect (3xx)
// that the http.Client does not follow is an APIError too; package verifier's
// client follows none (its CheckRedirect returns http.ErrUseLastResponse).
// Response bodies are read through a size limit, and neither the secret key
// nor a token value ever appears in an error string.
//
// A [Client] is safe for concurrent use by multiple goroutines.
package clerkapi
