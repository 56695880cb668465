package conformance_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// FuzzHandler sends arbitrary methods, paths, keys and bodies to the
// emulator's handler. Whatever arrives, the answer must be a 2xx or a 4xx
// (never a panic or a 5xx), carry Content-Type application/json, and conform
// to Clerk's spec: the operation's schema, or ClerkErrors for other statuses.
func FuzzHandler(f *testing.F) {
	srv := clerktest.NewServer()
	f.Cleanup(srv.Close)
	recv := srv.CreateMachine("receiver")
	caller := srv.CreateMachine("caller", recv.ID)
	tok, err := srv.CreateToken(caller.ID, clerkapi.CreateParams{})
	if err != nil {
		f.Fatal(err)
	}
	jwtTok, err := srv.CreateToken(caller.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	if err != nil {
		f.Fatal(err)
	}
	keys := []string{"", srv.SecretKey, caller.SecretKey, recv.SecretKey, "ak_unknown", "sk_test_unknown", "x y"}
	doc := loadSpec(f, subsetSpec)

	for _, s := range []struct {
		method, path string
		key          uint8
		body         string
	}{
		{"POST", "/v1/m2m_tokens", 2, `{"claims":{"a":1},"min_remaining_ttl_seconds":5}`},
		{"POST", "/v1/m2m_tokens", 2, `{"token_format":"jwt","seconds_until_expiration":0.5}`},
		{"GET", "/v1/m2m_tokens?subject=" + caller.ID + "&limit=3&offset=1&revoked=true", 1, ""},
		{"POST", "/v1/m2m_tokens/verify", 3, `{"token":"` + tok.Token + `"}`},
		{"POST", "/v1/m2m_tokens/verify", 1, `{"token":"` + jwtTok.Token + `"}`},
		{"POST", "/v1/m2m_tokens/" + tok.ID + "/revoke", 1, `{"revocation_reason":"r"}`},
		{"GET", "/v1/jwks", 1, ""},
		{"POST", "/v1/machines", 1, `{"name":"n","scoped_machines":["` + recv.ID + `"]}`},
		{"GET", "/v1/machines?limit=1&order_by=+name", 1, ""},
		{"PATCH", "/v1/machines/" + caller.ID, 1, `{"default_token_ttl":5}`},
		{"POST", "/v1/machines/" + caller.ID + "/scopes", 1, `{"to_machine_id":"` + recv.ID + `"}`},
		{"DELETE", "/v1/machines/" + caller.ID + "/scopes/" + recv.ID, 1, ""},
		{"POST", "/v1/machines/" + recv.ID + "/secret_key/rotate", 1, `{"previous_token_ttl":10}`},
		{"PUT", "/v1/m2m_tokens", 0, `[`},
	} {
		f.Add(s.method, s.path, s.key, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, path string, key uint8, body []byte) {
		req, err := http.NewRequest(method, "http://emulator"+path, bytes.NewReader(body))
		if err != nil {
			t.Skip("not a request a client can send")
		}
		if k := keys[int(key)%len(keys)]; k != "" {
			req.Header.Set("Authorization", "Bearer "+k)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 499 {
			t.Fatalf("%s %q: got status %d, want 2xx or 4xx", method, path, rec.Code)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %q: got invalid JSON %.200q", method, path, rec.Body.Bytes())
		}
		ex := exchange{req: req, reqBody: body, status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		if err := validateExchange(doc, ex); err != nil {
			t.Fatalf("%v: answer does not conform: %v\nbody: %.300s", ex, err, ex.body)
		}
	})
}
