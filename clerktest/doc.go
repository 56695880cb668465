// Package clerktest is an in-process emulator of the parts of Clerk's Backend API
// that machine authentication uses: machines and their scopes, the four M2M
// token endpoints (create, list, revoke, verify), API keys (create, list, get,
// secret, revoke, verify), OAuth applications (create, list, revoke_token) and
// their access tokens (verify; opaque and JWT), and the instance's JSON Web
// Key Set. It speaks Clerk's wire format (the OpenAPI spec's, version
// clerkapi.APIVersion, field by field), status codes and error bodies, so
// clerkapi, the verifier and Clerk's official SDKs work against it unchanged.
// At its origin it is also the instance's OAuth authorization server, as
// Clerk's Frontend API is (see "The OAuth authorization server" below), so
// that an MCP client can discover it, register, and get access tokens through
// the authorization-code flow.
//
// A [Server] is started on an httptest listener by [NewServer] (or on any
// listener by [Start]); its URL ends in /v1 and is what a client takes as its
// base URL, and its PublishableKey encodes its host as Clerk's publishable
// keys do. Machines, tokens, API keys, OAuth applications and OAuth access
// tokens can be set up through Go ([Server.CreateMachine],
// [Server.CreateToken], [Server.CreateAPIKey], [Server.CreateOAuthApplication],
// [Server.CreateOAuthAccessToken], …) without touching the request counters.
// Besides the authorization-code flow, the emulator mints OAuth access tokens
// directly, from Go or with POST /v1/__emulator/oauth_access_tokens (Clerk
// secret key; body {"user_id", "client_id", "scopes", "format",
// "seconds_until_expiration", "audience"}, the same fields as
// [OAuthAccessTokenParams]; answer {"token", "id"}), a path of its own that
// Clerk does not have.
//
// Tests steer the emulator with an injectable clock ([WithClock], [Clock]), count
// requests per endpoint ([Server.Calls]) and inject faults ([Server.Inject],
// [Server.InjectOn]): failures, rate limits, latency, hangs, malformed or
// oversized bodies and dropped connections. Faults apply before authentication.
//
// A [Gate] holds requests until the test releases it, and tells the test when
// requests have arrived ([Gate.Arrived]), so that a test can make concurrent
// callers meet at the emulator (share one call, time out while it is held)
// without sleeping or relying on latency. A request held by a Gate, Hang or
// Latency is let go, without an answer, as soon as its client gives up (its
// request context ends) — a POST too: its body is read first, since net/http
// notices a client going away only after the body's end — and when the server
// closes.
//
// # Where Clerk's behaviour is not documented
//
// The emulator picks the following, consistent with the spec and the SDKs:
//
//   - The four M2M token endpoints, the six API key endpoints and OAuth
//     access token verify also answer without the /v1 prefix
//     (origin/m2m_tokens, origin/api_keys/verify, …): Clerk's JavaScript SDK,
//     @clerk/backend, sends them there while the spec and the Go SDK use /v1.
//     Machines, JWKS and OAuth applications are served under /v1 only, as
//     both SDKs call them.
//   - The Clerk-API-Version request header is neither required nor checked:
//     the emulator answers as version 2026-05-12 (clerkapi.APIVersion), which
//     both official SDKs send, whatever the header says.
//   - POST /m2m_tokens with the Clerk secret key answers 401
//     machine_secret_key_invalid: the endpoint "must be authenticated via a
//     Machine Secret Key" and the spec lists no 403 for it.
//   - GET /m2m_tokens with a machine key for another machine's subject answers
//     403 authorization_invalid (the spec lists 403); revoking another
//     machine's token answers 404, as for an unknown ID (the spec lists only
//     400 and 404), so existence is not revealed.
//   - GET /jwks and every /machines call need the Clerk secret key; a machine
//     key answers 403 authorization_invalid.
//   - Every /api_keys and /oauth_applications call (verify included) and the
//     mint endpoint need the Clerk secret key too; a valid machine key
//     answers 401 unauthorized (the spec lists no 401 or 403 for API keys;
//     @clerk/backend reads a 401 as an invalid secret key, the verifier as a
//     misconfiguration). An unknown ak_… key, an API key's secret among
//     them, answers 401 machine_secret_key_invalid as everywhere.
//   - API keys: POST /api_keys takes the spec's fields; a subject must be a
//     user_…, org_… or mch_… ID (scim_…, which the spec's request allows but
//     its answer does not, is 400 form_param_value_invalid); the subject is
//     not checked to exist. Scopes are free-form strings. The secret is ak_
//     and 32 base62 characters, the ID ak_ and 32 hex digits; only the
//     secret verifies. Verify answers 404 resource_not_found alike for
//     unknown, revoked and expired keys and sets last_used_at. GET /api_keys
//     lists newest first; include_invalid=true adds revoked and expired keys,
//     type (default api_key) filters by type and query by a case-insensitive
//     part of the name. {apiKeyID} takes the spec's ak_… or api_key_… form.
//     Revoking a revoked key answers 200 and keeps the first reason.
//   - OAuth applications: IDs are oa_ and 27 base62 characters, client_id 16
//     and client_secret 32 base62 characters (empty for a public client);
//     created_at and updated_at are milliseconds. authorize_url and the other
//     URLs point at the emulator's origin, which serves authorize_url and
//     token_fetch_url (user_info_url, discovery_url and
//     token_introspection_url answer 404). A client registered with POST
//     /oauth/register is listed with dynamically_registered true, its
//     client_uri and its logo_uri as client_image_url. The list
//     is newest first by default (as @clerk/backend documents it; the spec's
//     parameter default says +created_at), and name_query matches a part of
//     the name or the exact client_id.
//   - OAuth access tokens: the token's scopes are RFC 6749 scope-tokens and
//     are not checked against the application's scopes; the default format is
//     JWT (Clerk's default since 2026-01-08) and the default lifetime one
//     hour. Opaque tokens are oat_ and 32 base62 characters, their IDs oat_
//     and 32 hex digits. JWTs have header alg RS256, kid the instance ID and
//     typ at+jwt (application/at+jwt is accepted too) and claims iss (the
//     emulator's origin), sub, client_id, scope (space-separated, absent
//     without scopes), jti (the ID), iat, nbf = iat, exp and, with an
//     audience, aud (a string for one value, an array for more); they are
//     never stored. Verify takes the token as "access_token" or as the
//     deprecated "secret" (not both, not neither: 400 as for M2M verify) and
//     answers 404 resource_not_found for an unknown, revoked or expired opaque
//     token or a JWT that is not the instance's (bad signature, typ, kid,
//     iss, sub, jti or client_id, or nbf in the future), and 200
//     {"active": false} for an expired JWT. Its object has no aud (the spec's
//     has none). revoke_token answers 204 without a body (and without a
//     Content-Type) for an opaque token of that application, again for a
//     revoked one, 404 for an unknown application or a token of another, and
//     400 form_param_value_invalid for a JWT, which cannot be revoked.
//   - Verify takes the token's value as "token" (the spec, the Go and
//     JavaScript SDKs) or as "secret" (Clerk's Python and C# SDKs). Sending
//     neither answers 400 form_param_missing for token; sending both, even
//     with the same value, 400 form_param_value_invalid for secret.
//   - Verify answers 404 resource_not_found alike for unknown, revoked, expired
//     and (with a machine key) unscoped tokens, JWTs included.
//   - Request bodies over 1 MiB answer 413 request_body_too_large without being
//     read further. Bad JSON or a non-object body is 400 request_body_invalid;
//     body fields give form_param_unknown, form_param_missing,
//     form_param_format_invalid (wrong type) or form_param_value_invalid (out
//     of range), with meta.param_name. Path and query parameters failing their
//     schema give 400 bad_request, worded as the spec's example ("Invalid
//     'query_parameter.limit': …").
//   - seconds_until_expiration is capped at 315360000 (ten years, the spec's
//     maximum default_token_ttl); JWT claims must be a JSON object.
//   - List with revoked=true or expired=true includes those tokens; tokens are
//     listed newest first. Revoking a revoked token answers 200 and keeps the
//     first reason.
//   - Adding an existing machine scope answers 409 duplicate_record; unknown
//     paths (and paths that are not in clean form: //, /./, /../, a trailing
//     /) 404 resource_not_found; a wrong method 405 method_not_allowed with
//     Allow. HEAD is served nowhere (405 where GET is allowed). Every answer
//     is application/json with a clerk_trace_id on errors.
//   - JWT-format tokens are shaped like Clerk's: header alg RS256, kid = the
//     instance ID, typ JWT, cat cl_B7d4PD333AAA ([TokenCategory]); payload
//     iss = the emulator's origin (its URL without /v1, e.g.
//     http://127.0.0.1:41234), sub = the machine ID, aud = an array of the
//     scoped machine IDs, scopes = the same IDs space-separated, jti = the
//     token ID, iat, exp, and the custom claims at the top level; no nbf. A
//     machine scoped to nothing gets neither aud nor scopes. They are signed
//     with an RSA-2048 key made on first use. Custom claims named like a
//     reserved claim (iss sub aud exp nbf iat jti scopes) are replaced or
//     dropped.
//
// # The OAuth authorization server
//
// A Clerk instance is an OAuth 2 authorization server at its Frontend API
// origin, the host its publishable key encodes (pk_test_ + base64 of
// "host$"). The emulator serves the same endpoints at its origin: its URL
// without /v1, e.g. http://127.0.0.1:41234, the host:port PublishableKey
// encodes (a client derives the origin as Clerk's SDKs do, with http:// for
// a loopback host). They take no Clerk key; clients authenticate with their
// client_id and client_secret where they have one. All six count calls and
// take faults like the Backend API's ([EndpointOAuthMetadata] …
// [EndpointOAuthTokenRevoke]; a fault's error body is Clerk's, not OAuth's)
// and read the emulator's clock; none is served under /v1. For
// browser-based clients they answer with Access-Control-Allow-Origin: *
// (exposing WWW-Authenticate and Location) and answer a CORS preflight
// (OPTIONS with Origin and Access-Control-Request-Method) with 204,
// Access-Control-Allow-Methods, Access-Control-Allow-Headers
// "Authorization, Content-Type, MCP-Protocol-Version" and Max-Age 86400,
// neither counted nor faulted.
//
//	GET  /.well-known/oauth-authorization-server  RFC 8414 metadata
//	GET  /.well-known/jwks.json                   the instance's JWKS (GET /v1/jwks's, without a key)
//	POST /oauth/register                          RFC 7591 dynamic client registration
//	GET  /oauth/authorize                         authorization code with PKCE S256
//	POST /oauth/token                             authorization_code and refresh_token grants
//	POST /oauth/token/revoke                      RFC 7009 revocation
//
// GET /.well-known/oauth-authorization-server answers 200 with, ORIGIN being
// the origin:
//
//	{"issuer": "ORIGIN",
//	 "authorization_endpoint": "ORIGIN/oauth/authorize",
//	 "token_endpoint": "ORIGIN/oauth/token",
//	 "revocation_endpoint": "ORIGIN/oauth/token/revoke",
//	 "jwks_uri": "ORIGIN/.well-known/jwks.json",
//	 "registration_endpoint": "ORIGIN/oauth/register",
//	 "response_types_supported": ["code"],
//	 "grant_types_supported": ["authorization_code", "refresh_token"],
//	 "token_endpoint_auth_methods_supported": ["client_secret_basic", "none", "client_secret_post"],
//	 "scopes_supported": ["openid", "profile", "email", "public_metadata", "private_metadata", "offline_access"],
//	 "subject_types_supported": ["public"],
//	 "id_token_signing_alg_values_supported": ["RS256"],
//	 "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope"],
//	 "code_challenge_methods_supported": ["S256"]}
//
// POST /oauth/register takes a JSON object of RFC 7591 client metadata:
// redirect_uris (required: 1 to 100 absolute URIs without fragment, of
// printable ASCII without space, '"' or '\', at most 2048 bytes each; http
// and https ones with a host; javascript:, data:, vbscript: and file:
// refused; a private-use scheme such as com.example.app:/cb taken),
// token_endpoint_auth_method (client_secret_basic, the default,
// client_secret_post, or none for a public client), grant_types
// (authorization_code, required, and refresh_token; default both),
// response_types (["code"], the default and the only value), scope
// (space-separated scope-tokens, at most 1024 bytes; default "profile
// email"), client_name (at most 256 bytes; default the client_id),
// client_uri and logo_uri (http or https URLs, at most 1024 bytes). null is
// taken as absent; other members (application_type, contacts, software_id,
// …) are ignored, as RFC 7591 §2 says. It answers 201, Cache-Control
// no-store, with {"client_id" (16 base62 characters), "client_secret" (32;
// confidential clients only), "client_id_issued_at" (seconds),
// "client_secret_expires_at": 0, "client_name", "client_uri" and "logo_uri"
// (when given), "redirect_uris", "grant_types", "response_types", "scope",
// "token_endpoint_auth_method"}, and 400 {"error": "invalid_redirect_uri"
// or "invalid_client_metadata", "error_description": …} otherwise (413 for a
// body over 1 MiB). The client is an OAuth application of the instance,
// the same store as [Server.CreateOAuthApplication] and POST
// /v1/oauth_applications: it is listed there, and tokens of either kind
// are issued to either.
//
// GET /oauth/authorize takes, in the query: response_type=code, client_id,
// redirect_uri (exactly one of the client's registered redirect URIs; it may
// be left out when the client registered exactly one), code_challenge (the
// unpadded base64url SHA-256 of the verifier: 43 characters) with
// code_challenge_method=S256 (required of every client), and optionally
// scope (space-separated; default the client's registered scope), state
// (returned as sent), resource (RFC 8707: absolute URIs without fragment,
// up to 16, repeated once per value) and response_mode=query. prompt and
// nonce are ignored. The user [WithOAuthUser] names ([DefaultOAuthUserID]
// by default) consents at once, to every scope asked: it answers 302 with
// Location: redirect_uri?code=…&state=… (the redirect URI's own query kept;
// state only when sent) and no body. The code (32 base62 characters) is good
// for one exchange within 10 minutes on the emulator's clock. A request
// whose client_id is unknown answers 401 invalid_client (as Clerk's spec
// lists it, with WWW-Authenticate), one whose client_id is missing or whose
// redirect_uri is missing where needed, not registered, or sent twice 400
// invalid_request, both with the JSON error body and never redirected; the other
// errors redirect to redirect_uri with error, error_description and state
// (RFC 6749 §4.1.2.1): unsupported_response_type (response_type not code),
// invalid_request (no response_type, no code_challenge, a method other than
// S256 or none, which means plain, a malformed challenge, a parameter sent
// twice, response_mode other than query), invalid_scope (malformed scope),
// invalid_target (a malformed resource, more than 16).
//
// POST /oauth/token takes an application/x-www-form-urlencoded body (at most
// 1 MiB; the query string is not read; a parameter sent twice, resource
// excepted, is invalid_request). The client authenticates with HTTP Basic
// (client_id:client_secret, form-urlencoded first, RFC 6749 §2.3.1) or with
// client_id and client_secret in the body, whichever it registered (Clerk
// treats the two alike); a public client sends client_id in the body (or
// Basic with an empty password) and no secret. Then, by grant_type:
//
//   - authorization_code: code, redirect_uri (required, as Clerk requires
//     it: the one the authorization request used, given or implied),
//     code_verifier (RFC 7636) and optionally resource (among the
//     authorization request's, when it sent any).
//   - refresh_token: refresh_token, and optionally scope and resource, which
//     may narrow what the authorization granted, never widen it; left out,
//     the token gets what was granted (a narrowed refresh does not narrow
//     the next one, as Clerk documents).
//
// It answers 200 with Cache-Control no-store and {"access_token",
// "token_type": "Bearer", "expires_in": 86400, "refresh_token", "scope"}:
// scope is the granted scopes, space-separated (absent when none), and
// refresh_token is absent for a client that registered grant_types without
// refresh_token. The access token is the emulator's usual OAuth access token
// (see the OAuth access tokens entry above) of that client for the consenting
// user, with the scopes granted, valid one day: a JWT (typ at+jwt) whose aud
// is the resource values (the token request's, else the authorization
// request's; no aud without any), or, with [WithOAuthAccessTokenFormat]
// clerkapi.FormatOpaque, an oat_… token; it verifies at POST
// /v1/oauth_applications/access_tokens/verify, and a JWT against the JWKS,
// exactly as [Server.CreateOAuthAccessToken]'s. Each refresh gives a new
// refresh token (48 base62 characters, valid ten years) and retires the one
// used. Errors are RFC 6749 §5.2's JSON with Cache-Control no-store:
//
//	401 invalid_client          unknown client_id, none, a wrong or missing secret, a
//	                            secret from a public client, an Authorization header
//	                            that is not Basic; always with WWW-Authenticate: Basic realm="oauth"
//	400 invalid_request         not form-urlencoded, grant_type or code or
//	                            refresh_token missing, a parameter repeated,
//	                            Basic and client_secret at once
//	400 unsupported_grant_type  any grant_type but the two (Clerk offers no client_credentials)
//	400 invalid_grant           unknown or expired code; a code used before (the
//	                            grant it gave is revoked: its refresh token and its
//	                            opaque access tokens, RFC 6749 §4.1.2); a code or
//	                            refresh token of another client; redirect_uri missing
//	                            or different; code_verifier missing or wrong; a
//	                            refresh token unknown, expired, revoked, or already
//	                            used (a replay: the grant is revoked, as RFC 9700
//	                            §4.14.2 advises)
//	400 invalid_scope           a malformed scope, or one wider than granted on refresh
//	400 invalid_target          a resource outside those authorized
//
// POST /oauth/token/revoke takes token (and token_type_hint, not needed) in
// the same kind of body, from a client authenticated as at the token
// endpoint. A refresh token revokes its grant (its refresh token and its
// opaque access tokens), an opaque access token itself; it answers 200
// without a body, also for an unknown token (RFC 7009 §2.2). A token of
// another client is 400 invalid_grant, a JWT 400 unsupported_token_type
// (JWTs cannot be revoked: they stay valid until they expire, at Clerk too).
//
// What the emulator picks where Clerk's behaviour is not documented or could
// not be checked (Clerk's Frontend API spec, fapi/2026-05-12, documents
// these endpoints' parameters and answer shapes; the metadata's values above
// follow a document a Clerk instance served as recorded by a third party,
// with jwks_uri, revocation_endpoint and the OpenID members added as the spec
// requires them):
//
//   - Registration is always open (Clerk's is off until enabled in the
//     instance's settings, and answers 422 then). Clerk rejects scopes it does
//     not know; the emulator grants any scope-token asked, registered or not,
//     so that a resource server's own scopes ("mcp") can be tested. It issues
//     no ID token, even for openid, and serves no userinfo, token_info or
//     openid-configuration. client_id_metadata_document_supported is not
//     advertised (Client ID Metadata Documents are not emulated).
//   - PKCE S256 is required of every client, confidential ones and clients
//     made through the Backend API included (Clerk requires it of public
//     clients; pkce_required of the Backend API's application is not read).
//     Consent is never asked.
//   - Refresh tokens are issued to every client that may refresh, whether or
//     not offline_access was asked. Their rotation, and the revocation of a
//     grant on a replayed refresh token or a reused code, follow the RFCs; how
//     Clerk handles a replay is not documented.
//   - invalid_grant and unsupported_grant_type are 400, as RFC 6749 says (Clerk's
//     spec lists them under 401 too). The 400 of an authorization request that
//     cannot be redirected is the OAuth JSON error body, not a page.
//   - Clerk's CORS policy for these endpoints is not documented; the
//     emulator's (above) lets any origin in, without credentials.
//   - The access token format is instance-wide (WithOAuthAccessTokenFormat),
//     as Clerk's oauth_jwt_access_tokens instance setting is; the
//     authorization response carries no iss (RFC 9207), which the metadata
//     does not advertise.
//
// A Server and the Faults it holds are safe for concurrent use by multiple
// goroutines; [Server.Close] ends hanging requests and leaves no goroutines.
package clerktest
