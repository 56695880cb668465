package clerktest_test

import (
	"net/http"
	"testing"
)

// TestValidatorRejects proves the conformance check can fail: answers that
// break the spec in typical ways must be rejected.
func TestValidatorRejects(t *testing.T) {
	doc := loadSpec(t, subsetSpec)
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
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
		{"list without total_count", "GET", "/v1/m2m_tokens", 200, jsonHdr, `{"m2m_tokens":[]}`, true},
		{"machine without id", "GET", "/v1/machines/mch_x", 200, jsonHdr, `{"object":"machine","name":"n","instance_id":"ins_x","created_at":1,"updated_at":1,"scoped_machines":[]}`, true},
		{"jwks key without n", "GET", "/v1/jwks", 200, jsonHdr, `{"keys":[{"kty":"RSA","kid":"k","alg":"RS256","use":"sig","e":"AQAB"}]}`, true},
		{"unlisted status, not ClerkErrors", "POST", "/v1/m2m_tokens/verify", 401, jsonHdr, `{"error":"nope"}`, true},
		{"unlisted status, ClerkErrors", "POST", "/v1/m2m_tokens/verify", 401, jsonHdr, `{"errors":[{"message":"m","long_message":"l","code":"c"}]}`, false},
		{"error entry without code", "POST", "/v1/m2m_tokens/verify", 404, jsonHdr, `{"errors":[{"message":"m","long_message":"l"}]}`, true},
		{"wrong content type", "GET", "/v1/jwks", 200, http.Header{"Content-Type": {"text/plain"}}, `{"keys":[]}`, true},
		{"unlisted success status", "GET", "/v1/jwks", 204, jsonHdr, `{}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "http://emulator"+tc.path, nil)
			err := validateExchange(doc, exchange{req: req, status: tc.status, header: tc.header, body: []byte(tc.body)})
			if (err != nil) != tc.wantErr {
				t.Errorf("got error %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}
