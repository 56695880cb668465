package m2mmcp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/m2mauth/m2mauth/adapters/m2mmcp"
)

// TestMetadata fetches the Protected Resource Metadata at the path-suffixed
// well-known URI (RFC 9728 §3.1) that the 401's resource_metadata names and
// at the root one, and checks the document, its caching and its CORS
// answers.
func TestMetadata(t *testing.T) {
	f := newFixture(t, m2mmcp.Config{Scopes: []string{"mcp", "read"}}, nil)
	origin := strings.TrimSuffix(f.resource, "/mcp")
	if want := origin + "/.well-known/oauth-protected-resource/mcp"; f.rs.MetadataURL() != want {
		t.Fatalf("MetadataURL: got %q, want %q", f.rs.MetadataURL(), want)
	}
	do := func(method, url string, h http.Header) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range h {
			req.Header[k] = v
		}
		res, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, body
	}

	var etag string
	for _, url := range []string{f.rs.MetadataURL(), origin + "/.well-known/oauth-protected-resource"} {
		res, body := do(http.MethodGet, url, nil)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: got %d %q, want 200 application/json", url, res.StatusCode, res.Header.Get("Content-Type"))
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"resource":                 f.resource,
			"authorization_servers":    []any{emulatorOrigin(f.clerk.URL)},
			"scopes_supported":         []any{"mcp", "read"},
			"bearer_methods_supported": []any{"header"},
		}
		if got, _ := json.Marshal(doc); string(got) != mustJSON(t, want) {
			t.Errorf("GET %s: got %s, want %s", url, got, mustJSON(t, want))
		}
		for k, v := range map[string]string{"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=3600"} {
			if res.Header.Get(k) != v {
				t.Errorf("GET %s: got %s %q, want %q", url, k, res.Header.Get(k), v)
			}
		}
		etag = res.Header.Get("ETag")
	}

	for _, tc := range []struct {
		name    string
		method  string
		header  http.Header
		status  int
		body    bool
		headers map[string]string
	}{
		{"If-None-Match with the ETag", http.MethodGet, http.Header{"If-None-Match": {`"x", ` + etag}}, http.StatusNotModified, false,
			map[string]string{"ETag": etag, "Access-Control-Allow-Origin": "*"}},
		{"If-None-Match, weak", http.MethodGet, http.Header{"If-None-Match": {"W/" + etag}}, http.StatusNotModified, false, nil},
		{"If-None-Match with another tag", http.MethodGet, http.Header{"If-None-Match": {`"other"`}}, http.StatusOK, true, nil},
		{"HEAD", http.MethodHead, nil, http.StatusOK, false, map[string]string{"Content-Type": "application/json"}},
		{"CORS preflight", http.MethodOptions, http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"GET"},
			"Access-Control-Request-Headers": {"mcp-protocol-version"}}, http.StatusNoContent, false,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS", "Access-Control-Allow-Headers": "*"}},
		{"POST", http.MethodPost, nil, http.StatusMethodNotAllowed, true, map[string]string{"Allow": "GET, HEAD, OPTIONS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(tc.method, f.rs.MetadataURL(), tc.header)
			if res.StatusCode != tc.status || (len(body) > 0) != tc.body {
				t.Errorf("got %d with %d bytes, want %d with a body: %v", res.StatusCode, len(body), tc.status, tc.body)
			}
			for k, v := range tc.headers {
				if res.Header.Get(k) != v {
					t.Errorf("got %s %q, want %q", k, res.Header.Get(k), v)
				}
			}
		})
	}
}

// TestMetadataSDKClient: the Go SDK's client reads the metadata as MCP
// clients do (RFC 9728 §3.3: its resource must be the URL the client
// called; the authorization server's scheme must be https or loopback), and
// finds it from the 401's challenge.
func TestMetadataSDKClient(t *testing.T) {
	f := newFixture(t, m2mmcp.Config{Scopes: []string{"mcp"}}, nil)
	res, _ := f.post(t, "")
	cs, err := oauthex.ParseWWWAuthenticate(res.Header.Values("WWW-Authenticate"))
	if err != nil || len(cs) != 1 || cs[0].Scheme != "bearer" {
		t.Fatalf("ParseWWWAuthenticate: got (%+v, %v), want one Bearer challenge", cs, err)
	}
	if got := cs[0].Params["resource_metadata"]; got != f.rs.MetadataURL() {
		t.Fatalf("resource_metadata: got %q, want %q", got, f.rs.MetadataURL())
	}
	if got := cs[0].Params["scope"]; got != "mcp" {
		t.Errorf("scope: got %q, want mcp", got)
	}
	prm, err := oauthex.GetProtectedResourceMetadata(context.Background(), cs[0].Params["resource_metadata"], f.resource, f.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(prm.AuthorizationServers, []string{emulatorOrigin(f.clerk.URL)}) || !slices.Equal(prm.ScopesSupported, []string{"mcp"}) {
		t.Errorf("got %+v, want the emulator's origin and the scope mcp", prm)
	}
}

// emulatorOrigin is the emulator's origin: its base URL without /v1.
func emulatorOrigin(base string) string { return strings.TrimSuffix(base, "/v1") }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
