// Package m2mclient is the calling side of Clerk machine-to-machine (M2M)
// authentication: a [TokenSource] that creates M2M tokens with a machine's
// secret key (ak_…), caches the live one and replaces it ahead of its expiry,
// and a [Transport] (an [http.RoundTripper]) that puts the token on every
// outgoing request, in the manner of golang.org/x/oauth2.
//
//	ts, err := m2mclient.NewTokenSource(os.Getenv("CLERK_MACHINE_SECRET_KEY"),
//		m2mclient.WithLifetime(time.Hour))
//	if err != nil { … }
//	client := ts.Client() // or m2mclient.NewClient(ts, myTransport)
//	resp, err := client.Get("https://orders.internal/v1/orders")
//
// A one-hour token is created on the first request and used by every request
// until five minutes before it expires (see [WithRefreshMargin]); then one
// request creates its successor while the old one stays valid at Clerk until
// its own expiry. However many goroutines need a token at once, one create call
// is made. When the called service answers 401 with
// `WWW-Authenticate: Bearer error="invalid_token"` — say the token was revoked —
// the Transport creates a new token and retries once, if the request body can be
// sent again.
//
// # Revoking tokens
//
// Opaque tokens can be revoked by ID: [clerkapi.Client.RevokeToken] with a
// reason, or [clerkapi.Client.RevokeAll] for every live token of a machine
// (say, after its key leaked); [clerkapi.Client.AllTokens] iterates over a
// machine's tokens across pages. [TokenSource.API] returns a client holding
// the machine's own key, which may list and revoke that machine's tokens; a
// Clerk secret key (sk_…) may do so for any machine. A service that verifies
// with a caching [github.com/m2mauth/m2mauth/verifier.Verifier] keeps accepting
// a revoked token until its cache entry expires (60 s by default); to make it
// refuse the token at once, call v.InvalidateID(tokenID) on that verifier —
// for instance from an admin endpoint or a revocation webhook — or revoke with
// [Revoke] / [RevokeAll], which do both in one call. With
// verifier.WithSharedCache, InvalidateID reaches every replica.
//
// # Secrets
//
// Neither the secret key nor a token value appears in an error string, and a
// [Token] prints without its value. Errors from Clerk wrap a
// [*clerkapi.APIError], reachable with [errors.As].
//
// # Concurrency
//
// TokenSource and Transport are safe for concurrent use by multiple goroutines.
// A TokenSource starts no goroutine that outlives a create call, which is
// bounded by [WithTimeout]; there is nothing to close.
package m2mclient
