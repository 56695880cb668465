package clerktest

import (
	"net/http"
	"net/http/httptest"
	"strings"
)

// A handler serves one operation for an authenticated caller; path
// parameters come from r.PathValue and are validated by the handler.
type handler func(s *Server, w http.ResponseWriter, r *http.Request, c caller)

// keyRule says which keys may call a route; the handler decides the rest.
type keyRule int

const (
	anyKey         keyRule = iota // the Clerk secret key or a machine secret key
	instanceKey403                // a machine key answers 403 authorization_invalid
	instanceKey401                // a machine key answers 401 unauthorized
	noKey                         // the Frontend API: no Clerk key; OAuth clients authenticate themselves
)

// routes lists the emulated operations as Go 1.22 ServeMux patterns below the
// API's origin. Some are also served without /v1: Clerk's JavaScript SDK
// (@clerk/backend) sends the M2M token, API key and OAuth access token verify
// calls to the origin (POST /m2m_tokens, POST /api_keys/verify, …), while the
// Go SDK and the spec use /v1. The Frontend API's OAuth authorization server
// (the noKey routes) is at the origin only, as a Clerk instance serves it at
// its Frontend API host.
var routes = []struct {
	pattern     string
	endpoint    Endpoint
	keys        keyRule
	handle      handler
	unversioned bool // also served with /v1 cut off
}{
	{"POST /v1/m2m_tokens", EndpointCreate, anyKey, (*Server).handleCreate, true},
	{"GET /v1/m2m_tokens", EndpointList, anyKey, (*Server).handleList, true},
	{"POST /v1/m2m_tokens/verify", EndpointVerify, anyKey, (*Server).handleVerify, true},
	{"POST /v1/m2m_tokens/{m2m_token_id}/revoke", EndpointRevoke, anyKey, (*Server).handleRevoke, true},
	{"GET /v1/jwks", EndpointJWKS, anyKey, (*Server).handleJWKS, false},
	{"GET /v1/machines", EndpointMachines, instanceKey403, (*Server).handleListMachines, false},
	{"POST /v1/machines", EndpointMachines, instanceKey403, (*Server).handleCreateMachine, false},
	{"GET /v1/machines/{machine_id}", EndpointMachines, instanceKey403, (*Server).handleGetMachine, false},
	{"PATCH /v1/machines/{machine_id}", EndpointMachines, instanceKey403, (*Server).handleUpdateMachine, false},
	{"DELETE /v1/machines/{machine_id}", EndpointMachines, instanceKey403, (*Server).handleDeleteMachine, false},
	{"GET /v1/machines/{machine_id}/secret_key", EndpointMachines, instanceKey403, (*Server).handleGetSecretKey, false},
	{"POST /v1/machines/{machine_id}/secret_key/rotate", EndpointMachines, instanceKey403, (*Server).handleRotateSecretKey, false},
	{"POST /v1/machines/{machine_id}/scopes", EndpointMachines, instanceKey403, (*Server).handleCreateScope, false},
	{"DELETE /v1/machines/{machine_id}/scopes/{other_machine_id}", EndpointMachines, instanceKey403, (*Server).handleDeleteScope, false},
	{"POST /v1/api_keys", EndpointAPIKeyCreate, instanceKey401, (*Server).handleCreateAPIKey, true},
	{"GET /v1/api_keys", EndpointAPIKeyList, instanceKey401, (*Server).handleListAPIKeys, true},
	{"GET /v1/api_keys/{apiKeyID}", EndpointAPIKeyGet, instanceKey401, (*Server).handleGetAPIKey, true},
	{"GET /v1/api_keys/{apiKeyID}/secret", EndpointAPIKeySecret, instanceKey401, (*Server).handleGetAPIKeySecret, true},
	{"POST /v1/api_keys/{apiKeyID}/revoke", EndpointAPIKeyRevoke, instanceKey401, (*Server).handleRevokeAPIKey, true},
	{"POST /v1/api_keys/verify", EndpointAPIKeyVerify, instanceKey401, (*Server).handleVerifyAPIKey, true},
	{"POST /v1/oauth_applications", EndpointOAuthAppCreate, instanceKey401, (*Server).handleCreateOAuthApp, false},
	{"GET /v1/oauth_applications", EndpointOAuthAppList, instanceKey401, (*Server).handleListOAuthApps, false},
	{"POST /v1/oauth_applications/{oauth_application_id}/revoke_token", EndpointOAuthRevoke, instanceKey401, (*Server).handleRevokeOAuthToken, false},
	{"POST /v1/oauth_applications/access_tokens/verify", EndpointOAuthVerify, instanceKey401, (*Server).handleVerifyOAuthToken, true},
	{"POST /v1/__emulator/oauth_access_tokens", EndpointOAuthMint, instanceKey401, (*Server).handleMintOAuthToken, false},
	{"GET /.well-known/oauth-authorization-server", EndpointOAuthMetadata, noKey, (*Server).handleOAuthMetadata, false},
	{"GET /.well-known/jwks.json", EndpointWellKnownJWKS, noKey, (*Server).handleFrontendJWKS, false},
	{"POST /oauth/register", EndpointOAuthRegister, noKey, (*Server).handleOAuthRegister, false},
	{"GET /oauth/authorize", EndpointOAuthAuthorize, noKey, (*Server).handleOAuthAuthorize, false},
	{"POST /oauth/token", EndpointOAuthToken, noKey, (*Server).handleOAuthToken, false},
	{"POST /oauth/token/revoke", EndpointOAuthTokenRevoke, noKey, (*Server).handleOAuthRevoke, false},
}

// newMux registers every route of s.
func (s *Server) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range routes {
		h := endpointHandler{s: s, endpoint: rt.endpoint, keys: rt.keys, handle: rt.handle}
		mux.Handle(rt.pattern, h)
		if rt.unversioned {
			method, path, _ := strings.Cut(rt.pattern, " ")
			mux.Handle(method+" "+strings.TrimPrefix(path, "/v1"), h)
		}
	}
	return mux
}

// endpointHandler counts a request to its endpoint, applies the faults,
// authenticates the caller and runs the operation.
type endpointHandler struct {
	s        *Server
	endpoint Endpoint
	keys     keyRule
	handle   handler
}

func (h endpointHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	if h.keys == noKey {
		allowAnyOrigin(w.Header()) // browser-based OAuth clients (see cors.go)
	}
	s.counters[h.endpoint].Add(1)
	if s.applyFaults(h.endpoint, w, r) {
		return
	}
	if h.keys == noKey {
		h.handle(s, w, r, caller{})
		return
	}
	c, e := s.authenticate(r)
	switch {
	case e != nil || c.instance:
	case h.keys == instanceKey403:
		e = errSecretKeyRequired() // the machines API needs the Clerk secret key
	case h.keys == instanceKey401:
		e = errSecretKeyOnly()
	}
	if e != nil {
		writeError(w, e)
		return
	}
	h.handle(s, w, r, c)
}

// ServeHTTP serves the emulated Backend API under /v1, the routes marked
// unversioned also at the origin, and the Frontend API's OAuth authorization
// server at the origin. It is a thin wrapper around the ServeMux:
// requests that no route takes get Clerk's JSON error body instead of the
// ServeMux's plain text.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isPreflight(r) {
		if methods := frontendMethods[r.URL.Path]; methods != "" {
			preflight(w, methods)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if h, _ := s.mux.Handler(r); r.Method != http.MethodHead {
		if _, ok := h.(endpointHandler); ok {
			s.mux.ServeHTTP(w, r) // sets the path values
			return
		}
	}
	writeError(w, s.unrouted(r))
}

// unrouted turns the ServeMux's own answer to r into Clerk's: 405
// method_not_allowed with Allow when the path exists with other methods, and
// 404 resource_not_found otherwise, a path the ServeMux would redirect to its
// clean form (//, /./, a trailing /) included. HEAD is served nowhere (the
// spec has none), although ServeMux lets a GET pattern take it.
func (s *Server) unrouted(r *http.Request) *apiError {
	if r.Method == http.MethodHead {
		r = r.Clone(r.Context())
		r.Method = http.MethodOptions // a method no route has: the ServeMux answers 404 or 405
	}
	h, _ := s.mux.Handler(r)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusMethodNotAllowed {
		return errPathNotFound()
	}
	var allow []string
	for _, m := range strings.Split(rec.Header().Get("Allow"), ", ") {
		if m != http.MethodHead {
			allow = append(allow, m)
		}
	}
	return errMethodNotAllowed(strings.Join(allow, ", "))
}
