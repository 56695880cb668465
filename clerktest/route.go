package clerktest

import (
	"net/http"
	"strings"
)

// route is one matched request: its endpoint, handler and path parameters.
type route struct {
	endpoint Endpoint
	handle   func(s *Server, w http.ResponseWriter, r *http.Request, c caller, params []string)
	params   []string
}

// match finds the handler for method and the path below /v1. It returns the
// allowed methods when the path exists but the method does not.
func match(method, path string) (rt *route, allow string, found bool) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	if path == "" || path == "/" || strings.HasSuffix(path, "/") || strings.Contains(path, "//") {
		return nil, "", false
	}
	type m = map[string]func(s *Server, w http.ResponseWriter, r *http.Request, c caller, p []string)
	var (
		methods  m
		endpoint Endpoint
		params   []string
	)
	switch {
	case len(seg) == 1 && seg[0] == "jwks":
		methods, endpoint = m{"GET": (*Server).handleJWKS}, EndpointJWKS
	case len(seg) == 1 && seg[0] == "m2m_tokens":
		methods = m{"GET": (*Server).handleList, "POST": (*Server).handleCreate}
		switch method {
		case "GET":
			endpoint = EndpointList
		case "POST":
			endpoint = EndpointCreate
		}
	case len(seg) == 2 && seg[0] == "m2m_tokens" && seg[1] == "verify":
		methods, endpoint = m{"POST": (*Server).handleVerify}, EndpointVerify
	case len(seg) == 3 && seg[0] == "m2m_tokens" && seg[2] == "revoke":
		methods, endpoint, params = m{"POST": (*Server).handleRevoke}, EndpointRevoke, seg[1:2]
	case seg[0] == "machines":
		endpoint = EndpointMachines
		switch {
		case len(seg) == 1:
			methods = m{"GET": (*Server).handleListMachines, "POST": (*Server).handleCreateMachine}
		case len(seg) == 2:
			methods = m{"GET": (*Server).handleGetMachine, "PATCH": (*Server).handleUpdateMachine, "DELETE": (*Server).handleDeleteMachine}
		case len(seg) == 3 && seg[2] == "secret_key":
			methods = m{"GET": (*Server).handleGetSecretKey}
		case len(seg) == 4 && seg[2] == "secret_key" && seg[3] == "rotate":
			methods = m{"POST": (*Server).handleRotateSecretKey}
		case len(seg) == 3 && seg[2] == "scopes":
			methods = m{"POST": (*Server).handleCreateScope}
		case len(seg) == 4 && seg[2] == "scopes":
			methods = m{"DELETE": (*Server).handleDeleteScope}
			params = seg[3:4]
		default:
			return nil, "", false
		}
		if len(seg) > 1 {
			params = append([]string{seg[1]}, params...)
		}
	default:
		return nil, "", false
	}
	h, ok := methods[method]
	if !ok {
		var names []string
		for _, k := range []string{"GET", "POST", "PATCH", "DELETE"} {
			if _, ok := methods[k]; ok {
				names = append(names, k)
			}
		}
		return nil, strings.Join(names, ", "), true
	}
	return &route{endpoint: endpoint, handle: h, params: params}, "", true
}

// unversionedPrefix is the one resource served without /v1 as well: Clerk's
// JavaScript SDK (@clerk/backend) sends its M2M token requests to the API's
// origin, e.g. POST /m2m_tokens, while the Go SDK and the spec use /v1.
const unversionedPrefix = "/m2m_tokens"

// ServeHTTP serves the emulated Backend API under /v1, and the M2M token
// endpoints also at the root.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	escaped := r.URL.EscapedPath()
	path, ok := strings.CutPrefix(escaped, "/v1/")
	if rest, found := strings.CutPrefix(escaped, unversionedPrefix); !ok && found && (rest == "" || rest[0] == '/') {
		path, ok = escaped[1:], true
	}
	if !ok {
		writeError(w, errPathNotFound())
		return
	}
	rt, allow, found := match(r.Method, "/"+path)
	switch {
	case !found:
		writeError(w, errPathNotFound())
		return
	case rt == nil:
		writeError(w, errMethodNotAllowed(allow))
		return
	}
	s.counters[rt.endpoint].Add(1)
	if s.applyFaults(rt.endpoint, w, r) {
		return
	}
	c, e := s.authenticate(r)
	if e == nil && rt.endpoint == EndpointMachines && !c.instance {
		e = errSecretKeyRequired() // the machines API needs the Clerk secret key
	}
	if e != nil {
		writeError(w, e)
		return
	}
	rt.handle(s, w, r, c, rt.params)
}
