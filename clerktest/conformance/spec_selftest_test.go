package conformance_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// TestValidatorRejects proves the conformance check can fail: answers that
// break the spec in typical ways must be rejected.
func TestValidatorRejects(t *testing.T) {
	doc := loadSpec(t, subsetSpec)
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	apiKey := `{"object":"api_key","id":"ak_3beecc9c60adb5f9b850e91a8ee1e992","type":"api_key","subject":"user_2xhFjEI5X2qWRvtV13BzSj8H6Dk","name":"n","claims":null,"scopes":["read"],"revoked":false,"revocation_reason":null,"expired":false,"expiration":null,"created_by":null,"last_used_at":null,"created_at":1,"updated_at":1}`
	oauth := `{"object":"clerk_idp_oauth_access_token","id":"oat_0ef5a7a33d87ed87ee7954c845d80450","client_id":"c","subject":"user_2xhFjEI5X2qWRvtV13BzSj8H6Dk","scopes":[],"revoked":false,"revocation_reason":null,"expired":false,"expiration":null,"created_at":1,"updated_at":1}`
	good := `{"object":"machine_to_machine_token","id":"mt_f7f0ba8c3b4843ce7d85fcdd5e71853e","subject":"mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk","claims":null,"scopes":[],"revoked":false,"revocation_reason":null,"expired":false,"expiration":null,"last_used_at":null,"created_at":1,"updated_at":1}`
	for _, tc := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		wantErr            bool
	}{
		{"valid verify answer", "POST", "/v1/m2m_tokens/verify", 200, jsonHdr, good, false},
		{"verify answer with token field", "POST", "/v1/m2m_tokens/verify", 200, jsonHdr, good[:len(good)-1] + `,"token":"mt_x"}`, true},
		{"verify answer missing object", "POST", "/v1/m2m_tokens/verify", 200, jsonHdr, `{"id":"mt_f7f0ba8c3b4843ce7d85fcdd5e71853e"}`, true},
		{"bad token id", "POST", "/v1/m2m_tokens/verify", 200, jsonHdr, `{"object":"machine_to_machine_token","id":"mt_zz","subject":"mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk","revoked":false,"revocation_reason":null,"expired":false,"expiration":null,"last_used_at":null,"created_at":1,"updated_at":1}`, true},
		{"create answer without token", "POST", "/v1/m2m_tokens", 201, jsonHdr, good, true},
		{"list without total_count", "GET", "/v1/m2m_tokens?subject=mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk", 200, jsonHdr, `{"m2m_tokens":[]}`, true},
		{"machine without id", "GET", "/v1/machines/mch_x", 200, jsonHdr, `{"object":"machine","name":"n","instance_id":"ins_x","created_at":1,"updated_at":1,"scoped_machines":[]}`, true},
		{"jwks key without n", "GET", "/v1/jwks", 200, jsonHdr, `{"keys":[{"kty":"RSA","kid":"k","alg":"RS256","use":"sig","e":"AQAB"}]}`, true},
		{"unlisted status, not ClerkErrors", "POST", "/v1/m2m_tokens/verify", 401, jsonHdr, `{"error":"nope"}`, true},
		{"unlisted status, ClerkErrors", "POST", "/v1/m2m_tokens/verify", 401, jsonHdr, `{"errors":[{"message":"m","long_message":"l","code":"c"}]}`, false},
		{"error entry without code", "POST", "/v1/m2m_tokens/verify", 404, jsonHdr, `{"errors":[{"message":"m","long_message":"l"}]}`, true},
		{"wrong content type", "GET", "/v1/jwks", 200, http.Header{"Content-Type": {"text/plain"}}, `{"keys":[]}`, true},
		{"unlisted success status", "GET", "/v1/jwks", 204, jsonHdr, `{}`, true},
		{"accepted request the spec rejects", "POST", "/v1/m2m_tokens/verify", 200, jsonHdr, good, true},
		{"valid API key answer", "POST", "/v1/api_keys/verify", 200, jsonHdr, apiKey, false},
		{"API key answer with its secret", "POST", "/v1/api_keys/verify", 200, jsonHdr, apiKey[:len(apiKey)-1] + `,"secret":"ak_x"}`, true},
		{"API key answer with a scim subject", "POST", "/v1/api_keys/verify", 200, jsonHdr, strings.Replace(apiKey, "user_", "scim_", 1), true},
		{"valid OAuth answer", "POST", "/v1/oauth_applications/access_tokens/verify", 200, jsonHdr, oauth, false},
		{"OAuth answer active false", "POST", "/v1/oauth_applications/access_tokens/verify", 200, jsonHdr, `{"active":false}`, false},
		{"OAuth answer active true", "POST", "/v1/oauth_applications/access_tokens/verify", 200, jsonHdr, `{"active":true}`, true},
		{"OAuth answer with aud", "POST", "/v1/oauth_applications/access_tokens/verify", 200, jsonHdr, oauth[:len(oauth)-1] + `,"aud":["x"]}`, true},
		{"revoke_token 204", "POST", "/v1/oauth_applications/oa_x/revoke_token", 204, http.Header{}, ``, false},
		{"revoke_token 204 with a JSON Content-Type", "POST", "/v1/oauth_applications/oa_x/revoke_token", 204, jsonHdr, ``, true},
		{"emulator's own path", "POST", "/v1/__emulator/oauth_access_tokens", 200, jsonHdr, `{"token":"oat_x","id":"oat_y"}`, false},
		{"emulator's own path, bad error body", "POST", "/v1/__emulator/oauth_access_tokens", 400, jsonHdr, `{"error":"x"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "http://emulator"+tc.path, nil)
			var reqBody []byte
			if tc.method == "POST" {
				reqBody = []byte(`{"token":"mt_x"}`)
				if tc.name == "accepted request the spec rejects" {
					reqBody = []byte(`{"token":"mt_x","extra":1}`)
				}
				switch {
				case tc.path == "/v1/m2m_tokens":
					reqBody = []byte(`{}`)
				case strings.HasPrefix(tc.path, "/v1/api_keys"):
					reqBody = []byte(`{"secret":"ak_x"}`)
				case strings.HasPrefix(tc.path, "/v1/oauth_applications/access_tokens"):
					reqBody = []byte(`{"access_token":"oat_x"}`)
				case strings.HasPrefix(tc.path, "/v1/oauth_applications"):
					reqBody = []byte(`{"token":"oat_x"}`)
				}
			}
			err := validateExchange(doc, exchange{req: req, reqBody: reqBody, status: tc.status, header: tc.header, body: []byte(tc.body)})
			if (err != nil) != tc.wantErr {
				t.Errorf("got error %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}

// TestSubsetMatchesFullSpec guards the carried subset against drift: every
// path and component it holds must equal the full spec's, when that is here.
func TestSubsetMatchesFullSpec(t *testing.T) {
	if _, err := os.Stat(fullSpec); err != nil {
		t.Skipf("%s is absent (only beside the project's source, not in a clone)", fullSpec)
	}
	sub, full := loadSpec(t, subsetSpec), loadSpec(t, fullSpec)
	same := func(what string, a, b any) {
		ja, err1 := json.Marshal(a)
		jb, err2 := json.Marshal(b)
		if err1 != nil || err2 != nil || string(ja) != string(jb) {
			t.Errorf("%s differs from the full spec (%v, %v): regenerate with testdata/extract-spec.py", what, err1, err2)
		}
	}
	if sub.Paths.Len() != 18 {
		t.Errorf("got %d paths in the subset, want 18 (/jwks, 7 machines paths, 3 m2m_tokens paths, 5 api_keys paths, 2 oauth_applications paths and access_tokens/verify)", sub.Paths.Len())
	}
	for p, item := range sub.Paths.Map() {
		same("path "+p, item, full.Paths.Value(p))
	}
	for n, s := range sub.Components.Schemas {
		same("schema "+n, s, full.Components.Schemas[n])
	}
	for n, r := range sub.Components.Responses {
		same("response "+n, r, full.Components.Responses[n])
	}
}

// TestSpecVersionIsAPIVersion: the spec the emulator is held to is the
// version clerkapi names in every request's Clerk-API-Version.
func TestSpecVersionIsAPIVersion(t *testing.T) {
	if got := loadSpec(t, subsetSpec).Info.Version; got != clerkapi.APIVersion {
		t.Errorf("the carried spec is version %q, clerkapi.APIVersion is %q: regenerate the subset or move the constant", got, clerkapi.APIVersion)
	}
}
