package clerktest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// TestUnversionedM2MPaths checks that the M2M token endpoints answer at the
// origin as under /v1 (Clerk's JavaScript SDK calls them there), and that
// nothing else does.
func TestUnversionedM2MPaths(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	recv := srv.CreateMachine("receiver")
	caller := srv.CreateMachine("caller", recv.ID)
	live, err := srv.CreateToken(caller.ID, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	origin := strings.TrimSuffix(srv.URL, "/v1")
	verify := `{"token":"` + live.Token + `"}`
	for _, tc := range []struct {
		name, key, method, path, body string
		want                          int
		code                          string
	}{
		{"create", caller.SecretKey, "POST", "/m2m_tokens", `{}`, 201, ""},
		{"list", caller.SecretKey, "GET", "/m2m_tokens?subject=" + caller.ID, "", 200, ""},
		{"verify", recv.SecretKey, "POST", "/m2m_tokens/verify", verify, 200, ""},
		{"revoke", caller.SecretKey, "POST", "/m2m_tokens/" + live.ID + "/revoke", `{}`, 200, ""},
		{"verify revoked", recv.SecretKey, "POST", "/m2m_tokens/verify", verify, 404, "resource_not_found"},
		{"wrong method", caller.SecretKey, "DELETE", "/m2m_tokens", "", 405, "method_not_allowed"},
		{"prefix of another name", caller.SecretKey, "GET", "/m2m_tokensx", "", 404, "resource_not_found"},
		{"machines need /v1", srv.SecretKey, "GET", "/machines", "", 404, "resource_not_found"},
		{"jwks needs /v1", srv.SecretKey, "GET", "/jwks", "", 404, "resource_not_found"},
		{"root", srv.SecretKey, "GET", "/", "", 404, "resource_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, origin+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tc.key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Errors []struct {
					Code string `json:"code"`
				} `json:"errors"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("body: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s: got %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
			}
			if tc.code != "" && (len(body.Errors) != 1 || body.Errors[0].Code != tc.code) {
				t.Errorf("%s %s: got errors %+v, want [%s]", tc.method, tc.path, body.Errors, tc.code)
			}
		})
	}
	if got := srv.Calls(clerktest.EndpointVerify); got != 2 {
		t.Errorf("verify calls: got %d, want 2 (unversioned requests are counted too)", got)
	}
}

// TestRouterAnswersLikeClerk checks the thin wrapper around the ServeMux:
// requests that no route takes get Clerk's JSON error body (404, or 405 with
// Allow), never ServeMux's plain text or a redirect, and are not counted.
func TestRouterAnswersLikeClerk(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	caller := srv.CreateMachine("caller", srv.CreateMachine("receiver").ID)
	for _, tc := range []struct {
		name, method, path string
		want               int
		allow              string // on 405
	}{
		{"wrong method, two allowed", "DELETE", "/v1/m2m_tokens", 405, "GET, POST"},
		{"wrong method at the origin", "PUT", "/m2m_tokens/verify", 405, "POST"},
		{"wrong method with a wildcard", "GET", "/v1/m2m_tokens/mt_0123456789abcdef0123456789abcdef/revoke", 405, "POST"},
		{"machine methods", "POST", "/v1/machines/" + caller.ID, 405, "DELETE, GET, PATCH"},
		{"HEAD is served nowhere", "HEAD", "/v1/jwks", 405, "GET"},
		{"HEAD on an unknown path", "HEAD", "/v1/users", 404, ""},
		{"OPTIONS", "OPTIONS", "/v1/jwks", 405, "GET"},
		{"unknown path", "GET", "/v1/users", 404, ""},
		{"unknown below a route", "GET", "/v1/jwks/x", 404, ""},
		{"trailing slash", "GET", "/v1/jwks/", 404, ""},
		{"double slash", "GET", "/v1//jwks", 404, ""},
		{"dot segment", "GET", "/v1/./jwks", 404, ""},
		{"dot-dot segment", "GET", "/v1/machines/../jwks", 404, ""},
		{"empty wildcard", "POST", "/v1/m2m_tokens//revoke", 404, ""},
		{"no /v1", "GET", "/jwks", 404, ""},
		{"root", "GET", "/", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, strings.TrimSuffix(srv.URL, "/v1")+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+srv.SecretKey)
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d, want %d", resp.StatusCode, tc.want)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("got Content-Type %q, want application/json", got)
			}
			if got := resp.Header.Get("Allow"); got != tc.allow {
				t.Errorf("got Allow %q, want %q", got, tc.allow)
			}
			if tc.method == "HEAD" {
				return // no body to read
			}
			var body clerkapi.ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			wantCode := map[int]string{404: "resource_not_found", 405: "method_not_allowed"}[tc.want]
			if len(body.Errors) != 1 || body.Errors[0].Code != wantCode || body.ClerkTraceID == "" {
				t.Errorf("got %+v, want one %s error with a trace ID", body, wantCode)
			}
		})
	}
	for _, e := range clerktest.Endpoints {
		if got := srv.Calls(e); got != 0 {
			t.Errorf("Calls(%q): got %d, want 0 (unrouted requests are not counted)", e, got)
		}
	}
}

// TestPathParametersReachHandlers checks that the ServeMux's wildcards reach
// the handlers, which validate them as Clerk does.
func TestPathParametersReachHandlers(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	recv := srv.CreateMachine("receiver")
	caller := srv.CreateMachine("caller", recv.ID)
	tok, err := srv.CreateToken(caller.ID, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
		code                     string
	}{
		{"revoke a bad ID", "POST", "/v1/m2m_tokens/mt_nothex/revoke", `{}`, 400, "bad_request"},
		{"revoke an escaped slash", "POST", "/v1/m2m_tokens/mt_0%2F1/revoke", `{}`, 400, "bad_request"},
		{"revoke an unknown ID", "POST", "/v1/m2m_tokens/mt_0123456789abcdef0123456789abcdef/revoke", `{}`, 404, "resource_not_found"},
		{"revoke at the origin", "POST", "/m2m_tokens/" + tok.ID + "/revoke", `{}`, 200, ""},
		{"get a machine", "GET", "/v1/machines/" + recv.ID, "", 200, ""},
		{"get an unknown machine", "GET", "/v1/machines/mch_unknown", "", 404, "resource_not_found"},
		{"delete a scope", "DELETE", "/v1/machines/" + caller.ID + "/scopes/" + recv.ID, "", 200, ""},
		{"delete it again", "DELETE", "/v1/machines/" + caller.ID + "/scopes/" + recv.ID, "", 404, "resource_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, strings.TrimSuffix(srv.URL, "/v1")+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+srv.SecretKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body clerkapi.ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d (%+v), want %d", resp.StatusCode, body, tc.want)
			}
			if tc.code != "" && (len(body.Errors) != 1 || body.Errors[0].Code != tc.code) {
				t.Errorf("got errors %+v, want [%s]", body.Errors, tc.code)
			}
		})
	}
}
