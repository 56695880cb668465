package conformance_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// frontendSpec is the OAuth authorization server of Clerk's Frontend API
// spec (fapi/2026-05-12.yml, extracted by testdata/extract-fapi-spec.py):
// what a Clerk instance serves at its Frontend API origin, and the
// emulator at its own.
const frontendSpec = "testdata/clerk-fapi-oauth-openapi.yml"

var frontend struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

func frontendDoc() (*openapi3.T, error) {
	frontend.once.Do(func() { frontend.doc, frontend.err = openapi3.NewLoader().LoadFromFile(frontendSpec) })
	return frontend.doc, frontend.err
}

// isFrontendPath reports whether path is one of the Frontend API's, which
// the emulator serves at its origin.
func isFrontendPath(path string) bool {
	return strings.HasPrefix(path, "/.well-known/") || strings.HasPrefix(path, "/oauth/")
}

// oauthErrors lists the RFC 6749 §5.2, RFC 7591 §3.2.2 and RFC 7009 §2.2.1
// error codes each Frontend API endpoint may answer with its JSON error body.
// Clerk's spec lists fewer for the token endpoint (no invalid_scope, no
// invalid_target) and some under 401: the emulator follows the RFCs there,
// as its doc says.
var oauthErrors = map[string][]string{
	"/oauth/register":     {"invalid_redirect_uri", "invalid_client_metadata"},
	"/oauth/authorize":    {"invalid_request", "invalid_client"},
	"/oauth/token":        {"invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "invalid_scope", "invalid_target"},
	"/oauth/token/revoke": {"invalid_request", "invalid_client", "invalid_grant", "unsupported_token_type"},
}

// validateFrontendExchange checks an answer of the Frontend API: a success
// against the operation's schema in Clerk's spec (requests are not checked:
// the spec's registration schema forbids the members RFC 7591 §2 tells a
// server to ignore, which MCP clients send), a redirect or a revocation's
// 200 without body or Content-Type, an error as RFC 6749 §5.2's JSON with a
// code its endpoint may give (a 401 with WWW-Authenticate), or, for faults
// and unknown paths, Clerk's ClerkErrors.
func validateFrontendExchange(e exchange) error {
	doc, err := frontendDoc()
	if err != nil {
		return err
	}
	path := e.req.URL.Path
	ct := e.header.Get("Content-Type")
	route, params := findRoute(doc, e.req.Method, path)
	preflight := e.req.Method == http.MethodOptions && e.status == http.StatusNoContent
	bodyless := preflight || e.status == http.StatusFound || (e.status == http.StatusOK && path == "/oauth/token/revoke")
	switch {
	case bodyless && (ct != "" || len(e.body) != 0):
		return fmt.Errorf("%d with Content-Type %q and a %d-byte body, want neither", e.status, ct, len(e.body))
	case e.status == http.StatusFound && (path != "/oauth/authorize" || e.header.Get("Location") == ""):
		return fmt.Errorf("302 from %s with Location %q, want a redirect of /oauth/authorize only", path, e.header.Get("Location"))
	case !bodyless && ct != "application/json":
		return fmt.Errorf("got Content-Type %q, want application/json", ct)
	}
	if e.header.Get("Access-Control-Allow-Origin") != "*" && !(e.status >= 404 && e.status <= 405) {
		return fmt.Errorf("no Access-Control-Allow-Origin: *, which browser-based clients need")
	}
	if preflight {
		return nil // CORS, not in Clerk's spec
	}
	if e.status < 400 {
		if route == nil || route.Operation.Responses.Status(e.status) == nil {
			return fmt.Errorf("status %d for %s %s, which the spec does not list", e.status, e.req.Method, path)
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: e.req, PathParams: params, Route: route},
			Status:                 e.status,
			Header:                 e.header,
			Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		in.SetBodyBytes(e.body)
		return openapi3filter.ValidateResponse(context.Background(), in)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(e.body, &obj); err != nil {
		return fmt.Errorf("error body is not a JSON object: %v", err)
	}
	if _, clerk := obj["errors"]; clerk {
		return validateClerkErrors(doc, e.body)
	}
	codes, ok := oauthErrors[path]
	if !ok {
		return fmt.Errorf("an OAuth error body from %s, which answers with ClerkErrors", path)
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	dec := json.NewDecoder(strings.NewReader(string(e.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || !slices.Contains(codes, body.Error) {
		return fmt.Errorf("got error body %s (%v), want {\"error\": one of %v, \"error_description\"}", e.body, err, codes)
	}
	switch {
	case e.status != 400 && e.status != 401 && e.status != 413:
		return fmt.Errorf("an OAuth error with status %d, want 400, 401 or 413", e.status)
	case (e.status == 401) != (body.Error == "invalid_client"):
		return fmt.Errorf("%s with status %d: invalid_client and 401 go together", body.Error, e.status)
	case e.status == 401 && e.header.Get("WWW-Authenticate") == "":
		return fmt.Errorf("401 without WWW-Authenticate")
	}
	return nil
}

// TestFrontendAPIConformance runs the authorization-code flow and its errors
// against the emulator's origin, through a recording transport, and checks
// every answer against Clerk's Frontend API spec.
func TestFrontendAPIConformance(t *testing.T) {
	for _, format := range []clerkapi.TokenFormat{clerkapi.FormatJWT, clerkapi.FormatOpaque} {
		t.Run(string(format), func(t *testing.T) {
			srv := clerktest.NewServer(clerktest.WithOAuthAccessTokenFormat(format))
			defer srv.Close()
			rec := &recorder{}
			hc := &http.Client{Transport: rec, Timeout: 10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			origin := strings.TrimSuffix(srv.URL, "/v1")
			send := func(method, path, contentType, auth, body string) *http.Response {
				t.Helper()
				req, err := http.NewRequest(method, origin+path, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if contentType != "" {
					req.Header.Set("Content-Type", contentType)
				}
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				io.Copy(io.Discard, resp.Body)
				return resp
			}
			form := "application/x-www-form-urlencoded"

			send("GET", "/.well-known/oauth-authorization-server", "", "", "")
			send("GET", "/.well-known/jwks.json", "", "", "")
			register := func(body string) map[string]any {
				send("POST", "/oauth/register", "application/json", "", body)
				ex := rec.exchanges()
				var m map[string]any
				json.Unmarshal(ex[len(ex)-1].body, &m)
				return m
			}
			pub := register(`{"client_name":"agent","redirect_uris":["http://127.0.0.1:9999/cb"],"token_endpoint_auth_method":"none","scope":"mcp","application_type":"native"}`)
			conf := register(`{"redirect_uris":["https://app.example/cb"],"client_uri":"https://app.example","logo_uri":"https://app.example/l.png"}`)
			register(`{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"client_secret_post","grant_types":["authorization_code"]}`)
			register(`{"redirect_uris":["javascript:alert(1)"]}`)
			register(`{"redirect_uris":["https://app.example/cb"],"grant_types":["client_credentials"]}`)
			pubID, confID, confSecret := pub["client_id"].(string), conf["client_id"].(string), conf["client_secret"].(string)
			basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(confID+":"+confSecret))

			verifier := strings.Repeat("v", 43)
			sum := sha256.Sum256([]byte(verifier))
			challenge := base64.RawURLEncoding.EncodeToString(sum[:])
			authorize := func(clientID, redirect string, extra url.Values) string {
				q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
					"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"state-1234"}}
				for k, v := range extra {
					q[k] = v
				}
				resp := send("GET", "/oauth/authorize?"+q.Encode(), "", "", "")
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if loc == nil {
					return ""
				}
				return loc.Query().Get("code")
			}
			codePub := authorize(pubID, "http://127.0.0.1:9999/cb", url.Values{"resource": {"https://mcp.example/mcp"}})
			codeConf := authorize(confID, "https://app.example/cb", url.Values{"scope": {"profile email mcp"}})
			authorize(pubID, "http://127.0.0.1:9999/evil", nil)                                          // 400, not redirected
			authorize("unknownclient123", "http://127.0.0.1:9999/cb", nil)                               // 400 invalid_client
			authorize(pubID, "http://127.0.0.1:9999/cb", url.Values{"code_challenge_method": {"plain"}}) // redirected error

			exchange := func(auth, body string) map[string]any {
				send("POST", "/oauth/token", form, auth, body)
				ex := rec.exchanges()
				var m map[string]any
				json.Unmarshal(ex[len(ex)-1].body, &m)
				return m
			}
			tokPub := exchange("", "grant_type=authorization_code&client_id="+pubID+"&code="+codePub+
				"&redirect_uri="+url.QueryEscape("http://127.0.0.1:9999/cb")+"&code_verifier="+verifier)
			tokConf := exchange(basic, "grant_type=authorization_code&code="+codeConf+
				"&redirect_uri="+url.QueryEscape("https://app.example/cb")+"&code_verifier="+verifier)
			exchange(basic, "grant_type=authorization_code&code="+codeConf+"&redirect_uri="+url.QueryEscape("https://app.example/cb")+"&code_verifier="+verifier) // reused
			exchange("", "grant_type=authorization_code&client_id=unknownclient123&code=x&redirect_uri=x&code_verifier="+verifier)                                // 401
			exchange(basic, "grant_type=client_credentials")
			rt, _ := tokPub["refresh_token"].(string)
			refreshed := exchange("", "grant_type=refresh_token&client_id="+pubID+"&refresh_token="+rt)
			exchange("", "grant_type=refresh_token&client_id="+pubID+"&refresh_token="+rt) // replay
			exchange("", "grant_type=refresh_token&client_id="+pubID+"&refresh_token=x&scope="+url.QueryEscape("mcp admin"))
			send("POST", "/oauth/token", "application/json", basic, `{"grant_type":"refresh_token"}`)

			if at, _ := tokConf["access_token"].(string); at != "" {
				send("POST", "/oauth/token/revoke", form, basic, "token="+url.QueryEscape(at))
			}
			send("POST", "/oauth/token/revoke", form, "", "client_id="+pubID+"&token=unknown")
			send("POST", "/oauth/token/revoke", form, "", "client_id="+pubID)
			if format == clerkapi.FormatJWT {
				send("POST", "/oauth/token/revoke", form, "", "client_id="+pubID+"&token="+url.QueryEscape(refreshed["access_token"].(string)))
			}

			// A browser's preflight.
			req, _ := http.NewRequest("OPTIONS", origin+"/oauth/token", nil)
			req.Header.Set("Origin", "http://localhost:6274")
			req.Header.Set("Access-Control-Request-Method", "POST")
			if resp, err := hc.Do(req); err == nil {
				resp.Body.Close()
			}

			// Faults answer with Clerk's error body; unknown paths and methods too.
			srv.InjectOn(clerktest.EndpointOAuthToken, clerktest.FailNext(1, 503))
			send("POST", "/oauth/token", form, basic, "grant_type=refresh_token&refresh_token=x")
			send("GET", "/oauth/token", "", "", "")
			send("GET", "/oauth/userinfo", "", "", "")

			exs := rec.exchanges()
			statuses := map[int]int{}
			for _, e := range exs {
				statuses[e.status]++
				if err := validateFrontendExchange(e); err != nil {
					t.Errorf("%v: answer does not conform: %v\nbody: %.300s", e, err, e.body)
				}
			}
			for _, s := range []int{200, 201, 204, 302, 400, 401, 404, 405, 503} {
				if statuses[s] == 0 {
					t.Errorf("no answer with status %d among %v: the flow did not run as planned", s, statuses)
				}
			}
		})
	}
}

// TestFrontendValidatorRejects proves the Frontend API check can fail.
func TestFrontendValidatorRejects(t *testing.T) {
	jsonHdr := http.Header{"Content-Type": {"application/json"}, "Access-Control-Allow-Origin": {"*"}}
	cors := http.Header{"Access-Control-Allow-Origin": {"*"}}
	md := `{"issuer":"http://e","authorization_endpoint":"http://e/oauth/authorize","token_endpoint":"http://e/oauth/token","revocation_endpoint":"http://e/oauth/token/revoke","jwks_uri":"http://e/.well-known/jwks.json","registration_endpoint":"http://e/oauth/register","response_types_supported":["code"],"grant_types_supported":["authorization_code"],"token_endpoint_auth_methods_supported":["none"],"scopes_supported":[],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],"claims_supported":[],"code_challenge_methods_supported":["S256"]}`
	tok := `{"access_token":"a","token_type":"Bearer","expires_in":86400,"refresh_token":"r","scope":"mcp"}`
	for _, tc := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		wantErr            bool
	}{
		{"valid metadata", "GET", "/.well-known/oauth-authorization-server", 200, jsonHdr, md, false},
		{"metadata without jwks_uri", "GET", "/.well-known/oauth-authorization-server", 200, jsonHdr, strings.Replace(md, `"jwks_uri":"http://e/.well-known/jwks.json",`, "", 1), true},
		{"metadata with an unknown member", "GET", "/.well-known/oauth-authorization-server", 200, jsonHdr, md[:len(md)-1] + `,"x":1}`, true},
		{"valid token answer", "POST", "/oauth/token", 200, jsonHdr, tok, false},
		{"token answer without token_type", "POST", "/oauth/token", 200, jsonHdr, `{"access_token":"a"}`, true},
		{"token answer with an unknown member", "POST", "/oauth/token", 200, jsonHdr, tok[:len(tok)-1] + `,"x":1}`, true},
		{"registration without client_secret_expires_at", "POST", "/oauth/register", 201, jsonHdr, `{"client_id":"c","client_id_issued_at":1,"client_name":"n","redirect_uris":["https://a/cb"],"grant_types":["authorization_code"],"response_types":["code"],"scope":"s","token_endpoint_auth_method":"none"}`, true},
		{"redirect", "GET", "/oauth/authorize", 302, withHeader(cors, "Location", "https://a/cb?code=c"), ``, false},
		{"redirect with a body", "GET", "/oauth/authorize", 302, withHeader(withHeader(cors, "Location", "https://a/cb?code=c"), "Content-Type", "text/html"), `<a>`, true},
		{"redirect without Location", "GET", "/oauth/authorize", 302, cors, ``, true},
		{"redirect from the token endpoint", "POST", "/oauth/token", 302, withHeader(cors, "Location", "https://a"), ``, true},
		{"revocation 200", "POST", "/oauth/token/revoke", 200, cors, ``, false},
		{"revocation 200 without CORS", "POST", "/oauth/token/revoke", 200, http.Header{}, ``, true},
		{"preflight", "OPTIONS", "/oauth/token", 204, cors, ``, false},
		{"OAuth error", "POST", "/oauth/token", 400, jsonHdr, `{"error":"invalid_grant","error_description":"d"}`, false},
		{"OAuth error of another endpoint", "POST", "/oauth/register", 400, jsonHdr, `{"error":"invalid_grant"}`, true},
		{"OAuth error with an unknown member", "POST", "/oauth/token", 400, jsonHdr, `{"error":"invalid_grant","x":1}`, true},
		{"invalid_client without WWW-Authenticate", "POST", "/oauth/token", 401, jsonHdr, `{"error":"invalid_client"}`, true},
		{"invalid_client", "POST", "/oauth/token", 401, withHeader(jsonHdr, "WWW-Authenticate", `Basic realm="oauth"`), `{"error":"invalid_client"}`, false},
		{"invalid_client as 400", "POST", "/oauth/token", 400, jsonHdr, `{"error":"invalid_client"}`, true},
		{"Clerk error for a fault", "POST", "/oauth/token", 503, jsonHdr, `{"errors":[{"message":"m","long_message":"l","code":"c"}]}`, false},
		{"OAuth error from the metadata", "GET", "/.well-known/oauth-authorization-server", 400, jsonHdr, `{"error":"invalid_request"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "http://emulator"+tc.path, nil)
			err := validateFrontendExchange(exchange{req: req, status: tc.status, header: tc.header, body: []byte(tc.body)})
			if (err != nil) != tc.wantErr {
				t.Errorf("got error %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}

// withHeader returns a copy of h with k set to v.
func withHeader(h http.Header, k, v string) http.Header {
	h = h.Clone()
	h.Set(k, v)
	return h
}
