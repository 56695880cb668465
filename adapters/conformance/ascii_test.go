package conformance_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestHeadersAreASCII sends tokens that the real verifier refuses with its
// own reasons, one of which contains '…', through every adapter: each header
// of the answer is printable ASCII, the reason reads in ASCII ("...", not
// "???"), and the JSON body carries the same text.
func TestHeadersAreASCII(t *testing.T) {
	f := newFixture(t)
	servers := f.servers(t)
	const prefix = `Bearer realm="api", error="invalid_token", error_description="`
	for _, tc := range []struct {
		name, token, want string
	}{
		{"not a Clerk machine credential", "xyz", "not a Clerk machine credential (mt_..., ak_..., oat_... or a JWT)"},
		{"unknown opaque token", "mt_" + strings.Repeat("x", 32), ""},
		{"junk JWT", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtY2hfeCJ9.c2ln", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first string
			for _, ad := range adapters {
				srv := servers[ad.name]["main"]
				req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/whoami", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+tc.token)
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Fatalf("%s: GET: %v", ad.name, err)
				}
				var body struct {
					Error       string `json:"error"`
					Description string `json:"error_description"`
				}
				derr := json.NewDecoder(res.Body).Decode(&body)
				res.Body.Close()
				if derr != nil {
					t.Fatalf("%s: decoding body: %v", ad.name, derr)
				}
				for name, values := range res.Header {
					for _, v := range values {
						for i := 0; i < len(v); i++ {
							if v[i] < 0x20 || v[i] > 0x7e {
								t.Errorf("%s: header %s = %q: byte %#x at %d is not printable ASCII", ad.name, name, v, v[i], i)
								break
							}
						}
					}
				}
				www := res.Header.Get("WWW-Authenticate")
				desc, found := strings.CutPrefix(www, prefix)
				desc, closed := strings.CutSuffix(desc, `"`)
				if res.StatusCode != 401 || !found || !closed || strings.Contains(desc, "?") {
					t.Fatalf("%s: got %d %q, want 401 %s<an ASCII reason>\"", ad.name, res.StatusCode, www, prefix)
				}
				if tc.want != "" && desc != tc.want {
					t.Errorf("%s: got reason %q, want %q", ad.name, desc, tc.want)
				}
				if body.Error != "invalid_token" || body.Description != desc {
					t.Errorf("%s: got body %+v, want invalid_token with the header's reason %q", ad.name, body, desc)
				}
				if first == "" {
					first = www
				} else if www != first {
					t.Errorf("%s: got WWW-Authenticate %q, %s gave %q: want identical", ad.name, www, adapters[0].name, first)
				}
			}
		})
	}
}
