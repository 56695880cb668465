// Package m2mmcp makes an MCP server built with the official Go SDK
// (github.com/modelcontextprotocol/go-sdk) an OAuth 2.0 resource server
// protected by Clerk, as the MCP authorization spec describes it: every
// request's bearer token is verified by m2mauth (cache, singleflight,
// budgets, breaker), the Protected Resource Metadata (RFC 9728) names the
// Clerk instance as the authorization server, and refusals tell a client
// where to authorize.
//
//	v, err := verifier.New(os.Getenv("CLERK_SECRET_KEY"))
//	…
//	rs, err := m2mmcp.New(v, m2mmcp.Config{
//		Resource:       "https://mcp.example.com/mcp",
//		PublishableKey: os.Getenv("CLERK_PUBLISHABLE_KEY"),
//		Scopes:         []string{"mcp"},
//	})
//	…
//	mux.Handle("/mcp", rs.Middleware(mcp.NewStreamableHTTPHandler(getServer, nil)))
//	mux.Handle("/.well-known/oauth-protected-resource/mcp", rs.Metadata())
//	mux.Handle("/.well-known/oauth-protected-resource", rs.Metadata())
//
// A tool handler reads the caller with Token(req) (the *verifier.Token:
// subject user_…, scopes, client ID, kind), or the SDK's own
// req.Extra.TokenInfo (UserID = the subject, Scopes, Expiration; the
// *verifier.Token in Extra[ExtraKey]). The SDK's streamable handler also
// binds each session to TokenInfo.UserID: a session started by one user
// cannot be used with another user's token.
//
// # Why a middleware of its own, not auth.RequireBearerToken
//
// The SDK's auth.RequireBearerToken takes a TokenVerifier and writes the
// refusals itself. It cannot express m2mauth's: any error of the
// TokenVerifier but auth.ErrInvalidToken becomes a 500 text/plain, so Clerk
// being unreachable (503 + Retry-After) or a client over its budget of calls
// to Clerk (429 + Retry-After) would read as a server bug and invite
// retries at once; its challenges carry no RFC 6750 error attribute (a
// client cannot tell an expired token from a missing one) and a 403 no
// error="insufficient_scope" for the SDK's own client to step up on; and it
// checks expiry with the wall clock, not the verifier's clock and leeway.
// So Middleware answers refusals with the middleware.Authenticator's
// Response, adding the MCP parameters, and only then hands the request to
// auth.RequireBearerToken, with a TokenVerifier that returns the TokenInfo of
// the token already verified: that is the SDK's only way to put its
// TokenInfo where its handlers read it (its context key is unexported). That
// inner step verifies nothing again and costs no call.
//
// # Audience (RFC 8707)
//
// A client asks Clerk for a token for this server with the resource
// parameter (MCP clients send Config.Resource); Clerk puts it in a JWT
// access token's aud claim. An OAuth token whose aud names other resources
// only is refused 401 invalid_token ("token issued for another resource"),
// before the scopes are looked at. A JWT without aud, and every opaque
// token (oat_…), pass on their kind and scopes alone: Clerk's verify answer
// for an opaque token carries no audience (the Backend API spec's OAuth
// access token object, version 2026-05-12, has no such field; were it to
// gain one, decoding it into Token.Audience would bring opaque tokens under
// the same check), so nothing says which resource it was issued for, and a
// token that any OAuth application of the instance obtained with the scope
// can call. Where that matters, prefer JWT access tokens
// (Clerk's default for new OAuth applications), or check Token.ClientID with
// middleware.WithCheck. M2M tokens' aud lists machine IDs, which
// middleware.WithAudience checks.
//
// # Kinds
//
// New accepts OAuth access tokens only: an M2M token or an API key on the
// route is refused 401 invalid_token without a call to Clerk. To let agents
// running as machines call too, pass middleware.WithAccept(verifier.KindOAuth,
// verifier.KindM2M) with middleware.WithAudience(this service's machine ID).
//
// A ResourceServer, its Middleware and its Metadata handler are safe for
// concurrent use.
package m2mmcp
