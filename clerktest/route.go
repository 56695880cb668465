package clerktest

import (
	"net/http"
	"net/http/httptest"
	"strings"
)

// A handler serves one operation for an authenticated caller; path
// parameters come from r.PathValue and are validated by the handler.
type handler func(s *Server, w http.ResponseWriter, r *http.Request, c caller)

// routes lists the emulated operations as Go 1.22 ServeMux patterns below the
// API's origin. The M2M token endpoints are also served without /v1: Clerk's
// JavaScript SDK (@clerk/backend) sends them to the origin (POST /m2m_tokens),
// while the Go SDK and the spec use /v1.
var routes = []struct {
	pattern     string
	endpoint    Endpoint
	handle      handler
	unversioned bool // also served with /v1 cut off
}{
	{"POST /v1/m2m_tokens", EndpointCreate, (*Server).handleCreate, true},
	{"GET /v1/m2m_tokens", EndpointList, (*Server).handleList, true},
	{"POST /v1/m2m_tokens/verify", EndpointVerify, (*Server).handleVerify, true},
	{"POST /v1/m2m_tokens/{m2m_token_id}/revoke", EndpointRevoke, (*Server).handleRevoke, true},
	{"GET /v1/jwks", EndpointJWKS, (*Server).handleJWKS, false},
	{"GET /v1/machines", EndpointMachines, (*Server).handleListMachines, false},
	{"POST /v1/machines", EndpointMachines, (*Server).handleCreateMachine, false},
	{"GET /v1/machines/{machine_id}", EndpointMachines, (*Server).handleGetMachine, false},
	{"PATCH /v1/machines/{machine_id}", EndpointMachines, (*Server).handleUpdateMachine, false},
	{"DELETE /v1/machines/{machine_id}", EndpointMachines, (*Server).handleDeleteMachine, false},
	{"GET /v1/machines/{machine_id}/secret_key", EndpointMachines, (*Server).handleGetSecretKey, false},
	{"POST /v1/machines/{machine_id}/secret_key/rotate", EndpointMachines, (*Server).handleRotateSecretKey, false},
	{"POST /v1/machines/{machine_id}/scopes", EndpointMachines, (*Server).handleCreateScope, false},
	{"DELETE /v1/machines/{machine_id}/scopes/{other_machine_id}", EndpointMachines, (*Server).handleDeleteScope, false},
}

// newMux registers every route of s.
func (s *Server) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range routes {
		h := endpointHandler{s: s, endpoint: rt.endpoint, handle: rt.handle}
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
	handle   handler
}

func (h endpointHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	s.counters[h.endpoint].Add(1)
	if s.applyFaults(h.endpoint, w, r) {
		return
	}
	c, e := s.authenticate(r)
	if e == nil && h.endpoint == EndpointMachines && !c.instance {
		e = errSecretKeyRequired() // the machines API needs the Clerk secret key
	}
	if e != nil {
		writeError(w, e)
		return
	}
	h.handle(s, w, r, c)
}

// ServeHTTP serves the emulated Backend API under /v1, and the M2M token
// endpoints also at the origin. It is a thin wrapper around the ServeMux:
// requests that no route takes get Clerk's JSON error body instead of the
// ServeMux's plain text.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
