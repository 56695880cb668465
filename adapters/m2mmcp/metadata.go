package m2mmcp

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// metadataDoc is the Protected Resource Metadata of r (RFC 9728 §2), as
// JSON, and its entity tag.
func metadataDoc(r resolved) (body []byte, etag string, err error) {
	body, err = json.Marshal(&oauthex.ProtectedResourceMetadata{
		Resource:               r.resource,
		AuthorizationServers:   []string{r.authServer},
		ScopesSupported:        r.scopes,
		BearerMethodsSupported: []string{"header"},
	})
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(body)
	return body, `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`, nil
}

// Metadata returns the handler of the Protected Resource Metadata document
// (RFC 9728): mount it at the path of MetadataURL (for a resource at /mcp,
// /.well-known/oauth-protected-resource/mcp) and, for clients that look at
// the root, at /.well-known/oauth-protected-resource. It serves, wherever it
// is mounted, the same precomputed JSON:
//
//	{"resource": Config.Resource,
//	 "authorization_servers": [the authorization server],
//	 "scopes_supported": Config.Scopes (absent when none),
//	 "bearer_methods_supported": ["header"]}
//
// GET and HEAD are answered 200 application/json with an ETag (304 for a
// matching If-None-Match) and Cache-Control: public, max-age=3600; OPTIONS
// (a CORS preflight) 204; any other method 405. Every answer allows any
// origin (Access-Control-Allow-Origin: *), since browser-based MCP clients
// fetch the document across origins and it holds nothing secret.
func (s *ResourceServer) Metadata() http.Handler { return http.HandlerFunc(s.serveMetadata) }

func (s *ResourceServer) serveMetadata(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "*") // no credentials are sent: * is a wildcard
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		h.Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", s.etag)
	if etagMatch(r.Header.Values("If-None-Match"), s.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", s.metadataLen)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(s.metadata)
	}
}

// etagMatch reports whether an If-None-Match field (RFC 9110 §13.1.2: "*"
// or a list of entity tags, compared weakly) matches etag.
func etagMatch(fields []string, etag string) bool {
	for _, f := range fields {
		for _, t := range strings.Split(f, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
	}
	return false
}
