// Package conformance holds the tests that hold the clerktest emulator to
// Clerk itself, with tools the root module must not require:
//
//   - every answer of every endpoint (M2M tokens, machines, JWKS, API keys,
//     OAuth applications and access tokens) validated against Clerk's OpenAPI
//     spec (kin-openapi): the subset carried in testdata, and the full spec
//     when ../shared/reference/ exists beside the repository (skipped, saying
//     why, when it does not), plus a check that the subset has not drifted;
//   - the OAuth authorization server the emulator serves at its origin
//     (metadata, JWKS, registration, authorize, token, revocation) held to
//     the OAuth part of Clerk's Frontend API spec (fapi/2026-05-12, carried
//     in testdata, extracted by testdata/extract-fapi-spec.py): successes to
//     its schemas, errors to RFC 6749's JSON body with the codes each
//     endpoint may give;
//   - Clerk's official Go SDK (clerk-sdk-go v2: m2m_token, machine,
//     machinescope, apikey, oauthapplication) and JavaScript SDK
//     (@clerk/backend: m2m, machines, apiKeys, oauthApplications,
//     idPOAuthAccessToken, verifyMachineAuthToken and
//     authenticateRequest({acceptsToken: 'any'}) for every kind, under Node,
//     from testdata/jssdk: skipped without node and
//     `npm ci --prefix clerktest/conformance/testdata/jssdk`, which CI runs)
//     driven against the emulator unchanged, both checked to send the
//     Clerk-API-Version that clerkapi sends;
//   - FuzzHandler: any request gets a 2xx or 4xx that conforms to the spec.
//
// It is a module of its own (github.com/m2mauth/m2mauth/clerktest/conformance)
// and exports nothing.
package conformance
