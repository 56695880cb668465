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
