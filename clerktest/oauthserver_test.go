package clerktest_test

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// frontendAPIOrigin derives the Frontend API origin from a publishable key
// as Clerk's SDKs do: pk_test_/pk_live_, then the base64 of "host$";
// https://, but http:// for a loopback host such as the emulator's.
func frontendAPIOrigin(t *testing.T, pk string) string {
	t.Helper()
	enc, ok := strings.CutPrefix(pk, "pk_test_")
	if !ok {
		enc, ok = strings.CutPrefix(pk, "pk_live_")
	}
	dec, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(enc, "="))
	host, dollar := strings.CutSuffix(string(dec), "$")
	if !ok || err != nil || !dollar || host == "" {
		t.Fatalf("publishable key %q does not encode a host", pk)
	}
	scheme := "https://"
	if h, _, err := net.SplitHostPort(host); err == nil {
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			scheme = "http://"
		}
	}
	return scheme + host
}

// TestOAuthMetadata: RFC 8414 metadata at the origin the publishable key
// encodes, with what the RFC requires and Clerk's members, every URL of it
// served.
func TestOAuthMetadata(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	iss := frontendAPIOrigin(t, srv.PublishableKey)
	if iss != origin(srv) {
		t.Fatalf("the publishable key decodes to %s, want the emulator's origin %s", iss, origin(srv))
	}
	a := get(t, iss+"/.well-known/oauth-authorization-server") // no key: the Frontend API is public
	if a.status != 200 || a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q %s, want 200 application/json", a.status, a.header.Get("Content-Type"), a.body)
	}
	var md map[string]any
	dec := json.NewDecoder(strings.NewReader(string(a.body)))
	dec.UseNumber()
	if err := dec.Decode(&md); err != nil {
		t.Fatal(err)
	}
	// RFC 8414 §2 and §3.3: issuer (the identifier the metadata URL was made
	// from, without query or fragment) and response_types_supported are
	// required, and authorization_endpoint and token_endpoint for the
	// authorization-code grant.
	for _, k := range []string{"issuer", "response_types_supported", "authorization_endpoint", "token_endpoint"} {
		if _, ok := md[k]; !ok {
			t.Errorf("metadata lacks %s, which RFC 8414 requires", k)
		}
	}
	if md["issuer"] != iss {
		t.Errorf("issuer: got %v, want %s", md["issuer"], iss)
	}
	want := map[string]any{
		"authorization_endpoint":                iss + "/oauth/authorize",
		"token_endpoint":                        iss + "/oauth/token",
		"revocation_endpoint":                   iss + "/oauth/token/revoke",
		"registration_endpoint":                 iss + "/oauth/register",
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"response_types_supported":              []any{"code"},
		"grant_types_supported":                 []any{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []any{"S256"},
		"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "none", "client_secret_post"},
		"scopes_supported":                      []any{"openid", "profile", "email", "public_metadata", "private_metadata", "offline_access"},
		"subject_types_supported":               []any{"public"},
		"id_token_signing_alg_values_supported": []any{"RS256"},
	}
	for k, w := range want {
		got, _ := json.Marshal(md[k])
		wantJSON, _ := json.Marshal(w)
		if string(got) != string(wantJSON) {
			t.Errorf("%s: got %s, want %s", k, got, wantJSON)
		}
	}
	if _, has := md["claims_supported"]; !has || len(md) != len(want)+2 {
		t.Errorf("got members %v, want the %d above, issuer and claims_supported", slices.Sorted(maps.Keys(md)), len(want))
	}

	// jwks_uri is the instance's JWKS, public, the one the access tokens are signed with.
	jwks := get(t, iss+"/.well-known/jwks.json")
	wantJWKS, _ := json.Marshal(srv.JWKS())
	if jwks.status != 200 || strings.TrimSpace(string(jwks.body)) != string(wantJWKS) {
		t.Errorf("jwks_uri: got %d %s, want the instance's JWKS %s", jwks.status, jwks.body, wantJWKS)
	}
	// Every endpoint named is served (a bare request is refused, not 404).
	for _, ep := range []struct{ method, key string }{
		{"GET", "authorization_endpoint"}, {"POST", "token_endpoint"}, {"POST", "revocation_endpoint"}, {"POST", "registration_endpoint"},
	} {
		req, _ := http.NewRequest(ep.method, md[ep.key].(string), nil)
		if a := do(t, req); a.status != 400 && a.status != 401 {
			t.Errorf("%s %s: got %d %s, want a 400 or 401 of the endpoint", ep.method, ep.key, a.status, a.body)
		}
	}
	// The Frontend API is at the origin only; the Backend API's JWKS stays.
	for _, p := range []string{"/.well-known/oauth-authorization-server", "/oauth/register", "/.well-known/jwks.json"} {
		if a := get(t, srv.URL+p); a.status != 404 {
			t.Errorf("GET %s under /v1: got %d, want 404", p, a.status)
		}
	}
	if status, _ := send(t, srv.URL, srv.SecretKey, "GET", "/jwks", ""); status != 200 {
		t.Errorf("GET /v1/jwks: got %d, want 200", status)
	}
}

// TestOAuthRegister: RFC 7591 dynamic client registration, its answer's
// required members, its errors, and the application it makes.
func TestOAuthRegister(t *testing.T) {
	clock := clerktest.NewClock(testkit.T0)
	srv := clerktest.NewServer(clerktest.WithClock(clock.Now))
	defer srv.Close()
	for _, c := range []struct {
		name, body string
		want       map[string]any // members the answer must have (beyond client_id, client_id_issued_at)
		secret     bool
	}{
		{"minimal", `{"redirect_uris":["https://app.example/cb"]}`, map[string]any{
			"redirect_uris": []any{"https://app.example/cb"}, "token_endpoint_auth_method": "client_secret_basic",
			"grant_types": []any{"authorization_code", "refresh_token"}, "response_types": []any{"code"}, "scope": "profile email",
			"client_secret_expires_at": 0.0}, true},
		{"public MCP client", `{"client_name":"Claude","redirect_uris":["http://127.0.0.1:33418/callback","http://localhost:33418/callback"],
			"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"],
			"scope":"mcp offline_access","application_type":"native","contacts":["a@example.com"],"software_id":"x"}`, map[string]any{
			"client_name": "Claude", "redirect_uris": []any{"http://127.0.0.1:33418/callback", "http://localhost:33418/callback"},
			"token_endpoint_auth_method": "none", "scope": "mcp offline_access", "client_secret_expires_at": 0.0}, false},
		{"client_secret_post, URIs", `{"redirect_uris":["com.example.app:/oauth"],"token_endpoint_auth_method":"client_secret_post",
			"client_uri":"https://example.com","logo_uri":"https://example.com/logo.png","grant_types":["authorization_code"]}`, map[string]any{
			"token_endpoint_auth_method": "client_secret_post", "client_uri": "https://example.com", "logo_uri": "https://example.com/logo.png",
			"grant_types": []any{"authorization_code"}}, true},
		{"nulls are absent", `{"redirect_uris":["https://app.example/cb"],"client_name":null,"scope":null,"grant_types":null}`, map[string]any{
			"scope": "profile email", "grant_types": []any{"authorization_code", "refresh_token"}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := postJSON(t, origin(srv)+"/oauth/register", c.body)
			if a.status != 201 || a.header.Get("Cache-Control") != "no-store" || a.header.Get("Pragma") != "no-cache" {
				t.Fatalf("got %d %s (Cache-Control %q), want 201 no-store", a.status, a.body, a.header.Get("Cache-Control"))
			}
			m := a.json(t)
			id, _ := m["client_id"].(string)
			secret, hasSecret := m["client_secret"].(string)
			// RFC 7591 §3.2.1: client_id; client_secret_expires_at with a secret.
			if len(id) != 16 || m["client_id_issued_at"] != float64(testkit.T0.Unix()) || hasSecret != c.secret || (c.secret && len(secret) != 32) {
				t.Errorf("got %v, want a 16-character client_id issued at T0 and a secret: %v", m, c.secret)
			}
			if _, ok := m["client_secret_expires_at"]; c.secret && !ok {
				t.Error("client_secret_expires_at is missing: RFC 7591 requires it with a client_secret")
			}
			if name, _ := m["client_name"].(string); name == "" {
				t.Errorf("client_name: got %v, want the name or the client_id", m["client_name"])
			}
			for k, w := range c.want {
				got, _ := json.Marshal(m[k])
				wantJSON, _ := json.Marshal(w)
				if string(got) != string(wantJSON) {
					t.Errorf("%s: got %s, want %s", k, got, wantJSON)
				}
			}
			for _, unknown := range []string{"application_type", "contacts", "software_id"} {
				if _, ok := m[unknown]; ok {
					t.Errorf("got %s echoed, want unknown metadata ignored", unknown)
				}
			}
			// It is an OAuth application of the instance, listed by the Backend API.
			status, b := send(t, srv.URL, srv.SecretKey, "GET", "/oauth_applications?name_query="+id, "")
			list := decode[struct {
				Data []struct {
					ClientID              string `json:"client_id"`
					Name                  string `json:"name"`
					Public                bool   `json:"public"`
					DynamicallyRegistered bool   `json:"dynamically_registered"`
				} `json:"data"`
			}](t, b)
			if status != 200 || len(list.Data) != 1 || !list.Data[0].DynamicallyRegistered || list.Data[0].Public != !c.secret ||
				list.Data[0].Name != m["client_name"] || strings.Contains(string(b), "client_secret") {
				t.Errorf("listed as %d %s", status, b)
			}
			// Tokens minted for it verify.
			tok, err := srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: id, Format: clerkapi.FormatOpaque})
			if err != nil {
				t.Fatal(err)
			}
			if v, err := testkit.NewClient(t, srv, srv.SecretKey).VerifyOAuthAccessToken(t.Context(), tok); err != nil || v.ClientID != id {
				t.Errorf("verify a token of the registered client: got %+v, %v", v, err)
			}
		})
	}

	for _, c := range []struct {
		name, body, error string
	}{
		{"no redirect_uris", `{"client_name":"x"}`, "invalid_redirect_uri"},
		{"empty redirect_uris", `{"redirect_uris":[]}`, "invalid_redirect_uri"},
		{"redirect_uris a string", `{"redirect_uris":"https://app.example/cb"}`, "invalid_redirect_uri"},
		{"relative redirect URI", `{"redirect_uris":["/cb"]}`, "invalid_redirect_uri"},
		{"redirect URI with a fragment", `{"redirect_uris":["https://app.example/cb#x"]}`, "invalid_redirect_uri"},
		{"javascript: redirect URI", `{"redirect_uris":["javascript:alert(1)"]}`, "invalid_redirect_uri"},
		{"http redirect URI without host", `{"redirect_uris":["http:/cb"]}`, "invalid_redirect_uri"},
		{"redirect URI with a space", `{"redirect_uris":["https://app.example/a b"]}`, "invalid_redirect_uri"},
		{"too many redirect URIs", `{"redirect_uris":[` + strings.Repeat(`"https://a.example/cb",`, 100) + `"https://a.example/cb"]}`, "invalid_redirect_uri"},
		{"unknown auth method", `{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}`, "invalid_client_metadata"},
		{"client_credentials grant", `{"redirect_uris":["https://a.example/cb"],"grant_types":["client_credentials"]}`, "invalid_client_metadata"},
		{"no authorization_code grant", `{"redirect_uris":["https://a.example/cb"],"grant_types":["refresh_token"]}`, "invalid_client_metadata"},
		{"implicit response type", `{"redirect_uris":["https://a.example/cb"],"response_types":["token"]}`, "invalid_client_metadata"},
		{"no response type", `{"redirect_uris":["https://a.example/cb"],"response_types":[]}`, "invalid_client_metadata"},
		{"malformed scope", `{"redirect_uris":["https://a.example/cb"],"scope":"a  b"}`, "invalid_client_metadata"},
		{"scope a number", `{"redirect_uris":["https://a.example/cb"],"scope":7}`, "invalid_client_metadata"},
		{"client_name too long", `{"redirect_uris":["https://a.example/cb"],"client_name":"` + strings.Repeat("n", 257) + `"}`, "invalid_client_metadata"},
		{"logo_uri not http", `{"redirect_uris":["https://a.example/cb"],"logo_uri":"javascript:alert(1)"}`, "invalid_client_metadata"},
		{"not JSON", `redirect_uris=https://a.example/cb`, "invalid_client_metadata"},
		{"an array", `[{"redirect_uris":["https://a.example/cb"]}]`, "invalid_client_metadata"},
		{"empty body", ``, "invalid_client_metadata"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := postJSON(t, origin(srv)+"/oauth/register", c.body)
			if a.status != 400 || a.oauthError() != c.error || a.json(t)["error_description"] == "" {
				t.Errorf("got %d %s, want 400 %s with a description", a.status, a.body, c.error)
			}
		})
	}
}

// TestFrontendAPIEndpointsCountAndFault: each Frontend API endpoint has its
// own counter, takes faults set for it alone and the server's clock, needs
// no Clerk key, and is served at the origin only.
func TestFrontendAPIEndpointsCountAndFault(t *testing.T) {
	clock := clerktest.NewClock(testkit.T0)
	srv := clerktest.NewServer(clerktest.WithClock(clock.Now))
	defer srv.Close()
	c := publicClient(t, srv)
	for _, tc := range []struct {
		endpoint clerktest.Endpoint
		do       func() answer
		ok       int
	}{
		{clerktest.EndpointOAuthMetadata, func() answer { return get(t, origin(srv)+"/.well-known/oauth-authorization-server") }, 200},
		{clerktest.EndpointWellKnownJWKS, func() answer { return get(t, origin(srv)+"/.well-known/jwks.json") }, 200},
		{clerktest.EndpointOAuthRegister, func() answer {
			return postJSON(t, origin(srv)+"/oauth/register", `{"redirect_uris":["https://a.example/cb"]}`)
		}, 201},
		{clerktest.EndpointOAuthAuthorize, func() answer {
			_, ch := newPKCE()
			return c.authorize(t, url.Values{"code_challenge": {ch}, "code_challenge_method": {"S256"}})
		}, 302},
		{clerktest.EndpointOAuthToken, func() answer {
			return c.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown"}})
		}, 400},
		{clerktest.EndpointOAuthTokenRevoke, func() answer { return c.post(t, "/oauth/token/revoke", url.Values{"token": {"unknown"}}) }, 200},
	} {
		t.Run(string(tc.endpoint), func(t *testing.T) {
			srv.ResetCalls()
			srv.InjectOn(tc.endpoint, clerktest.FailNext(1, 503))
			defer srv.InjectOn(tc.endpoint, nil)
			if a := tc.do(); a.status != 503 {
				t.Errorf("with the fault: got %d %s, want 503", a.status, a.body)
			}
			if a := tc.do(); a.status != tc.ok {
				t.Errorf("after the fault: got %d %s, want %d", a.status, a.body, tc.ok)
			}
			for _, e := range clerktest.Endpoints {
				want := int64(0)
				if e == tc.endpoint {
					want = 2
				}
				if got := srv.Calls(e); got != want {
					t.Errorf("Calls(%s): got %d, want %d", e, got, want)
				}
			}
		})
	}

	// A global rate limit reaches them too, on the server's clock.
	srv.Inject(clerktest.RateLimit(1, time.Minute))
	defer srv.ClearFaults()
	if a := get(t, origin(srv)+"/.well-known/oauth-authorization-server"); a.status != 200 {
		t.Errorf("first call under RateLimit(1, 1m): got %d", a.status)
	}
	if a := c.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}); a.status != 429 || a.header.Get("Retry-After") == "" {
		t.Errorf("second call: got %d (Retry-After %q), want 429 with Retry-After", a.status, a.header.Get("Retry-After"))
	}
	clock.Advance(time.Minute)
	if a := get(t, origin(srv)+"/.well-known/jwks.json"); a.status != 200 {
		t.Errorf("a minute later: got %d, want 200", a.status)
	}
}

// TestOAuthTokenEndpointRequests: bodies and methods the token endpoint
// refuses, each with a clear 4xx.
func TestOAuthTokenEndpointRequests(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	c := confidentialClient(t, srv)
	post := func(contentType, auth, body string) answer {
		req, _ := http.NewRequest("POST", origin(srv)+"/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return do(t, req)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.id+":"+c.secret))
	for _, tc := range []struct {
		name                    string
		contentType, auth, body string
		status                  int
		error                   string
	}{
		{"JSON body", "application/json", basic, `{"grant_type":"refresh_token"}`, 400, "invalid_request"},
		{"no Content-Type", "", basic, `grant_type=refresh_token`, 400, "invalid_request"},
		{"Bearer instead of Basic", "application/x-www-form-urlencoded", "Bearer " + srv.SecretKey, `grant_type=refresh_token&refresh_token=x`, 401, "invalid_client"},
		{"malformed Basic", "application/x-www-form-urlencoded", "Basic !!!", `grant_type=refresh_token&refresh_token=x`, 401, "invalid_client"},
		{"no client at all", "application/x-www-form-urlencoded", "", `grant_type=refresh_token&refresh_token=x`, 401, "invalid_client"},
		{"malformed form", "application/x-www-form-urlencoded", basic, `grant_type=%zz`, 400, "invalid_request"},
		{"charset parameter", "application/x-www-form-urlencoded; charset=utf-8", basic, `grant_type=refresh_token&refresh_token=x`, 400, "invalid_grant"},
		{"oversized body", "application/x-www-form-urlencoded", basic, "grant_type=" + strings.Repeat("a", 1<<20+1), 413, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if a := post(tc.contentType, tc.auth, tc.body); a.status != tc.status || a.oauthError() != tc.error {
				t.Errorf("got %d %.200s, want %d %s", a.status, a.body, tc.status, tc.error)
			}
		})
	}
	if a := get(t, origin(srv)+"/oauth/token"); a.status != 405 || a.header.Get("Allow") != "POST" {
		t.Errorf("GET /oauth/token: got %d (Allow %q), want 405 with Allow: POST", a.status, a.header.Get("Allow"))
	}
}

// TestFrontendAPICORS: a browser-based client may call the Frontend API
// from another origin (preflight included); the Backend API sends no CORS
// headers.
func TestFrontendAPICORS(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	c := publicClient(t, srv)
	for _, tc := range []struct {
		path, method, want string
	}{
		{"/oauth/token", "POST", "POST"},
		{"/oauth/register", "POST", "POST"},
		{"/.well-known/oauth-authorization-server", "GET", "GET"},
		{"/oauth/token/revoke", "POST", "POST"},
	} {
		req, _ := http.NewRequest("OPTIONS", origin(srv)+tc.path, nil)
		req.Header.Set("Origin", "http://localhost:6274")
		req.Header.Set("Access-Control-Request-Method", tc.method)
		req.Header.Set("Access-Control-Request-Headers", "content-type, mcp-protocol-version")
		a := do(t, req)
		h := a.header
		if a.status != 204 || len(a.body) != 0 || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Methods") != tc.want ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "MCP-Protocol-Version") || h.Get("Content-Type") != "" {
			t.Errorf("preflight of %s: got %d %v", tc.path, a.status, h)
		}
	}
	srv.ResetCalls()
	a := c.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
	if a.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("token answer: got Access-Control-Allow-Origin %q, want *", a.header.Get("Access-Control-Allow-Origin"))
	}
	if srv.Calls(clerktest.EndpointOAuthToken) != 1 {
		t.Errorf("got %d token calls, want 1: preflights are not counted", srv.Calls(clerktest.EndpointOAuthToken))
	}
	// The Backend API: no CORS, and a preflight is the usual 405.
	req, _ := http.NewRequest("OPTIONS", srv.URL+"/m2m_tokens/verify", nil)
	req.Header.Set("Origin", "http://localhost:6274")
	req.Header.Set("Access-Control-Request-Method", "POST")
	if a := do(t, req); a.status != 405 || a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("Backend API preflight: got %d %v, want 405 without CORS", a.status, a.header)
	}
	if status, _ := send(t, srv.URL, srv.SecretKey, "GET", "/jwks", ""); status != 200 {
		t.Fatal(status)
	}
}
