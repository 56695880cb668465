package clerktest

import "sync/atomic"

// Endpoint names an emulated endpoint, for counters and per-endpoint faults.
type Endpoint string

// The emulated endpoints. EndpointMachines stands for every /machines path.
// The Backend API's are served under /v1 (some also at the origin); the
// Frontend API's (EndpointOAuthMetadata and after) at the origin only.
const (
	EndpointCreate   Endpoint = "POST /m2m_tokens"
	EndpointList     Endpoint = "GET /m2m_tokens"
	EndpointRevoke   Endpoint = "POST /m2m_tokens/{id}/revoke"
	EndpointVerify   Endpoint = "POST /m2m_tokens/verify"
	EndpointJWKS     Endpoint = "GET /jwks"
	EndpointMachines Endpoint = "/machines"

	EndpointAPIKeyCreate Endpoint = "POST /api_keys"
	EndpointAPIKeyList   Endpoint = "GET /api_keys"
	EndpointAPIKeyGet    Endpoint = "GET /api_keys/{id}"
	EndpointAPIKeySecret Endpoint = "GET /api_keys/{id}/secret"
	EndpointAPIKeyRevoke Endpoint = "POST /api_keys/{id}/revoke"
	EndpointAPIKeyVerify Endpoint = "POST /api_keys/verify"

	EndpointOAuthAppCreate Endpoint = "POST /oauth_applications"
	EndpointOAuthAppList   Endpoint = "GET /oauth_applications"
	EndpointOAuthRevoke    Endpoint = "POST /oauth_applications/{id}/revoke_token"
	EndpointOAuthVerify    Endpoint = "POST /oauth_applications/access_tokens/verify"
	// EndpointOAuthMint is the emulator's own POST /__emulator/oauth_access_tokens,
	// which stands in for Clerk's OAuth flows.
	EndpointOAuthMint Endpoint = "POST /__emulator/oauth_access_tokens"

	// The Frontend API's OAuth authorization server, served at the origin.
	EndpointOAuthMetadata    Endpoint = "GET /.well-known/oauth-authorization-server"
	EndpointWellKnownJWKS    Endpoint = "GET /.well-known/jwks.json"
	EndpointOAuthRegister    Endpoint = "POST /oauth/register"
	EndpointOAuthAuthorize   Endpoint = "GET /oauth/authorize"
	EndpointOAuthToken       Endpoint = "POST /oauth/token"
	EndpointOAuthTokenRevoke Endpoint = "POST /oauth/token/revoke"
)

// Endpoints lists every Endpoint.
var Endpoints = []Endpoint{EndpointCreate, EndpointList, EndpointRevoke, EndpointVerify, EndpointJWKS, EndpointMachines,
	EndpointAPIKeyCreate, EndpointAPIKeyList, EndpointAPIKeyGet, EndpointAPIKeySecret, EndpointAPIKeyRevoke, EndpointAPIKeyVerify,
	EndpointOAuthAppCreate, EndpointOAuthAppList, EndpointOAuthRevoke, EndpointOAuthVerify, EndpointOAuthMint,
	EndpointOAuthMetadata, EndpointWellKnownJWKS, EndpointOAuthRegister, EndpointOAuthAuthorize, EndpointOAuthToken,
	EndpointOAuthTokenRevoke}

// counters holds one atomic counter per endpoint; the map is never written
// after construction.
type counters map[Endpoint]*atomic.Int64

func newCounters() counters {
	c := make(counters, len(Endpoints))
	for _, e := range Endpoints {
		c[e] = new(atomic.Int64)
	}
	return c
}

// Calls returns how many requests arrived at endpoint e since the start or the
// last ResetCalls, faulted and refused ones included. Requests to unknown
// paths, with a wrong method, and set-up through Go are not counted.
func (s *Server) Calls(e Endpoint) int64 {
	if c, ok := s.counters[e]; ok {
		return c.Load()
	}
	return 0
}

// ResetCalls sets every counter to zero.
func (s *Server) ResetCalls() {
	for _, c := range s.counters {
		c.Store(0)
	}
}
