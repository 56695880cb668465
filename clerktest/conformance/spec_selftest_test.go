package conformance_test

import (
	"encoding/json"
	"net/http"
	"os"
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
		{"list without total_count", "GET", "/v1/m2m_tokens?subject=mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk", 200, jsonHdr, `{"m2m_tokens":[]}`, true},
		{"machine without id", "GET", "/v1/machines/mch_x", 200, jsonHdr, `{"object":"machine","name":"n","instance_id":"ins_x","created_at":1,"updated_at":1,"scoped_machines":[]}`, true},
		{"jwks key without n", "GET", "/v1/jwks", 200, jsonHdr, `{"keys":[{"kty":"RSA","kid":"k","alg":"RS256","use":"sig","e":"AQAB"}]}`, true},
		{"unlisted status, not ClerkErrors", "POST", "/v1/m2m_tokens/verify", 401, jsonHdr, `{"error":"nope"}`, true},
		{"unlisted status, ClerkErrors", "POST", "/v1/m2m_tokens/verify", 401, jsonHdr, `{"errors":[{"message":"m","long_message":"l","code":"c"}]}`, false},
		{"error entry without code", "POST", "/v1/m2m_tokens/verify", 404, jsonHdr, `{"errors":[{"message":"m","long_message":"l"}]}`, true},
		{"wrong content type", "GET", "/v1/jwks", 200, http.Header{"Content-Type": {"text/plain"}}, `{"keys":[]}`, true},
		{"unlisted success status", "GET", "/v1/jwks", 204, jsonHdr, `{}`, true},
		{"accepted request the spec rejects", "POST", "/v1/m2m_tokens/verify", 200, jsonHdr, good, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "http://emulator"+tc.path, nil)
			var reqBody []byte
			if tc.method == "POST" {
				reqBody = []byte(`{"token":"mt_x"}`)
				if tc.name == "accepted request the spec rejects" {
					reqBody = []byte(`{"token":"mt_x","extra":1}`)
				}
				if tc.path == "/v1/m2m_tokens" {
					reqBody = []byte(`{}`)
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
	if sub.Paths.Len() != 10 {
		t.Errorf("got %d paths in the subset, want 10 (/jwks, 7 machines paths, 3 m2m_tokens paths)", sub.Paths.Len())
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
