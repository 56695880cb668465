// Package clerktest is an in-process emulator of the parts of Clerk's Backend API
// that machine authentication uses: machines and their scopes, the four M2M
// token endpoints (create, list, revoke, verify), API keys (create, list, get,
// secret, revoke, verify), OAuth applications (create, list, revoke_token) and
// their access tokens (verify; opaque and JWT), and the instance's JSON Web
// Key Set. It speaks Clerk's wire format (the OpenAPI spec's, version
// clerkapi.APIVersion, field by field), status codes and error bodies, so
// clerkapi, the verifier and Clerk's official SDKs work against it unchanged.
//
// A [Server] is started on an httptest listener by [NewServer] (or on any
// listener by [Start]); its URL ends in /v1 and is what a client takes as its
// base URL, and its PublishableKey encodes its host as Clerk's publishable
// keys do. Machines, tokens, API keys, OAuth applications and OAuth access
// tokens can be set up through Go ([Server.CreateMachine],
// [Server.CreateToken], [Server.CreateAPIKey], [Server.CreateOAuthApplication],
// [Server.CreateOAuthAccessToken], …) without touching the request counters.
// Clerk issues OAuth access tokens at the end of OAuth flows that the
// emulator does not serve: it mints them directly instead, from Go or with
// POST /v1/__emulator/oauth_access_tokens (Clerk secret key; body
// {"user_id", "client_id", "scopes", "format", "seconds_until_expiration",
// "audience"}, the same fields as [OAuthAccessTokenParams]; answer
// {"token", "id"}), a path of its own that Clerk does not have.
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
//     URLs point at the emulator's origin, where nothing is served. The list
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
// A Server and the Faults it holds are safe for concurrent use by multiple
// goroutines; [Server.Close] ends hanging requests and leaves no goroutines.
package clerktest
