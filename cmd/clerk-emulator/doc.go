// Command clerk-emulator serves the clerktest Clerk emulator as a standalone
// server, for local development and for clients in any language.
//
// At start it creates demo machines — "caller" scoped to "receiver", and
// "loner" scoped to nothing — and prints the base URL (ending in /v1), the
// instance's Clerk secret key and each machine's ID, name, secret key and
// scopes. Then it prints three lines to paste into sh, bash or zsh, which
// need curl, grep and cut (no jq), with the keys and IDs of this run filled in:
//
//	TOKEN=$(curl -sS -w '\n' -X POST http://127.0.0.1:8787/v1/m2m_tokens -H 'Authorization: Bearer ak_…' -H 'Content-Type: application/json' -d '{}' | grep -o '"token":"[^"]*"' | cut -d'"' -f4)
//	curl -sS -w '\n' -X POST http://127.0.0.1:8787/v1/m2m_tokens/verify -H 'Authorization: Bearer sk_test_…' -H 'Content-Type: application/json' -d "{\"token\":\"$TOKEN\"}"
//	curl -sS -w '\n' -X POST http://127.0.0.1:8787/v1/machines -H 'Authorization: Bearer sk_test_…' -H 'Content-Type: application/json' -d '{"name":"worker","scoped_machines":["mch_…"]}'
//
// The first mints an opaque token with caller's machine secret key (ak_…)
// and keeps its value in $TOKEN (201; the token is shown only then); the
// second verifies it with the Clerk secret key (200, the token object
// without its value; receiver's key works too, since the token is scoped to
// it, and another machine's key gets 404); the third adds a machine "worker"
// that may call receiver (200, with the new machine's ID and secret key).
// Send a service the token as "Authorization: Bearer $TOKEN".
//
// With -json it prints exactly one JSON object on the first line of stdout
// instead, and no curl lines:
//
//	{"base_url": …, "secret_key": …, "publishable_key": …, "authorization_server": …, "oauth_user_id": …,
//	 "machines": [{"id": …, "name": …, "secret_key": …, "scoped_machines": […]}]}
//
// publishable_key (pk_test_…) encodes the emulator's host:port as Clerk's
// publishable keys encode an instance's Frontend API host: @clerk/backend's
// authenticateRequest needs one to accept OAuth tokens or any kind of token,
// and an MCP resource server derives its authorization server from it:
// "http://" (the host is a loopback one) + the decoded host:port, which is
// authorization_server (e.g. http://127.0.0.1:8787, base_url without /v1).
// oauth_user_id is the user on whose behalf authorizations are granted. The
// text output prints the same (publishable key, the metadata URL, the
// consenting user and the access token format).
//
// Usage:
//
//	clerk-emulator [-addr 127.0.0.1:8787] [-json] [-oauth-user user_…] [-oauth-token-format jwt|opaque]
//
// -oauth-user sets the user who consents at /oauth/authorize (default
// user_2EmulatorOAuthTestUser00000, clerktest.DefaultOAuthUserID);
// -oauth-token-format the format of the access tokens /oauth/token issues
// (default jwt, Clerk's default; opaque gives oat_… tokens).
//
// It serves the API exactly as package clerktest documents it: the M2M token
// endpoints under /v1 and at the origin (as @clerk/backend calls them), verify
// with the token as "token" or as "secret" (Clerk's Python and C# SDKs), and
// JWT-format tokens with Clerk's claim set (iss is the emulator's origin).
//
// API keys and OAuth access tokens are served too, with the Clerk secret key
// only: POST and GET /v1/api_keys, GET /v1/api_keys/{id} and
// /v1/api_keys/{id}/secret, POST /v1/api_keys/{id}/revoke and
// POST /v1/api_keys/verify (body {"secret": …}); POST and GET
// /v1/oauth_applications, POST /v1/oauth_applications/{id}/revoke_token and
// POST /v1/oauth_applications/access_tokens/verify (body
// {"access_token": …}). The API key and verify endpoints also answer at the
// origin, as @clerk/backend calls them.
//
// Clerk issues OAuth access tokens at the end of its OAuth flows, which the
// emulator serves too (below); it also mints them on request, with the Clerk
// secret key, for an OAuth application created first:
//
//	POST /v1/__emulator/oauth_access_tokens
//	{"user_id": "user_…", "client_id": "…", "scopes": ["read"],
//	 "format": "jwt", "seconds_until_expiration": 3600,
//	 "audience": ["https://mcp.example/mcp"]}
//
// user_id (a user ID, user_ and 27 characters) and client_id (the
// application's) are required; scopes are RFC 6749 scope-tokens; format is
// jwt (the default) or opaque; the lifetime defaults to one hour; audience,
// optional, becomes a JWT's aud. It answers 200 {"token": …, "id": "oat_…"}:
// the token is oat_… or a JWT (typ at+jwt) signed with the instance's key.
// For example, with BASE_URL and SECRET_KEY from the start-up line:
//
//	curl -s "$BASE_URL/oauth_applications" -H "Authorization: Bearer $SECRET_KEY" \
//	  -H 'Content-Type: application/json' -d '{"name": "agent"}'     # note its client_id
//	curl -s "$BASE_URL/__emulator/oauth_access_tokens" -H "Authorization: Bearer $SECRET_KEY" \
//	  -H 'Content-Type: application/json' \
//	  -d '{"user_id": "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "client_id": "CLIENT_ID", "scopes": ["read"]}'
//
// # The OAuth authorization server
//
// At its origin (authorization_server) the emulator is the instance's OAuth
// authorization server, as a Clerk instance's Frontend API is: an MCP client
// discovers it from a resource server's metadata and runs the
// authorization-code flow against it, with consent granted at once for the
// -oauth-user. No Clerk key is needed there:
//
//	GET  /.well-known/oauth-authorization-server  RFC 8414 metadata (issuer: the origin)
//	GET  /.well-known/jwks.json                   the instance's JWKS
//	POST /oauth/register                          RFC 7591 dynamic client registration (201)
//	GET  /oauth/authorize                         302 to redirect_uri?code=…&state=… (PKCE S256 required)
//	POST /oauth/token                             authorization_code and refresh_token grants
//	POST /oauth/token/revoke                      RFC 7009 revocation
//
// Their parameters, answers and errors are package clerktest's ("The OAuth
// authorization server" in its documentation). The access tokens verify at
// POST /v1/oauth_applications/access_tokens/verify with the secret key, and
// JWTs against the JWKS. In sh, with curl, grep and cut (the PKCE pair is
// RFC 7636's example; a real client makes a new one each time):
//
//	ORIGIN=http://127.0.0.1:8787
//	CLIENT=$(curl -sS "$ORIGIN/oauth/register" -H 'Content-Type: application/json' -d '{"client_name":"cli","redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"none"}' | grep -o '"client_id":"[^"]*"' | cut -d'"' -f4)
//	CODE=$(curl -sS -o /dev/null -w '%{redirect_url}' "$ORIGIN/oauth/authorize?response_type=code&client_id=$CLIENT&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=mcp&state=xyz&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256" | grep -o 'code=[^&]*' | cut -d= -f2)
//	curl -sS -w '\n' "$ORIGIN/oauth/token" -d grant_type=authorization_code -d "client_id=$CLIENT" -d "code=$CODE" -d redirect_uri=http://127.0.0.1:9/cb -d code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
//
// The first registers a public client and keeps its client_id, the second
// authorizes it (the 302's Location, not followed, holds the code), the
// third exchanges the code: {"access_token": …, "token_type": "Bearer",
// "expires_in": 86400, "refresh_token": …, "scope": "mcp"}.
//
// It stops cleanly on SIGINT or SIGTERM. All state lives in memory.
package main
