package clerktest

import (
	"net/http"
	"strings"
)

// Browser-based OAuth clients (MCP Inspector, web agents) fetch the
// authorization server's metadata and call its registration, token and
// revocation endpoints from another origin. The Frontend API routes therefore
// answer with Access-Control-Allow-Origin: * and answer CORS preflights,
// without cookies (no Access-Control-Allow-Credentials). Clerk's CORS policy
// for these endpoints is not documented; the Backend API sends no CORS
// headers, as a browser never calls it.

// frontendMethods maps each Frontend API path to its methods, for preflights.
var frontendMethods = func() map[string]string {
	m := map[string]string{}
	for _, rt := range routes {
		if rt.keys != noKey {
			continue
		}
		method, path, _ := strings.Cut(rt.pattern, " ")
		if m[path] != "" {
			method = m[path] + ", " + method
		}
		m[path] = method
	}
	return m
}()

func allowAnyOrigin(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, Location")
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a CORS preflight of a Frontend API path that allows
// methods: 204 without a body, neither counted nor faulted (it is the
// browser's, not the client's, request).
func preflight(w http.ResponseWriter, methods string) {
	h := w.Header()
	allowAnyOrigin(h)
	h.Set("Access-Control-Allow-Methods", methods)
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}
