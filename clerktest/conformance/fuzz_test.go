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
// emulator's handler, M2M, API key and OAuth endpoints alike. Whatever
// arrives, the answer must be a 2xx or a 4xx (never a panic or a 5xx), carry
// Content-Type application/json (a 204: no body and no Content-Type), and
// conform to Clerk's spec: the operation's schema, or ClerkErrors for other
// statuses.
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
	const user = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"
	key, err := srv.CreateAPIKey(clerktest.APIKeyParams{Name: "seed", Subject: user, Scopes: []string{"read"}})
	if err != nil {
		f.Fatal(err)
	}
	app := srv.CreateOAuthApplication("seed")
	oat, err := srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: user, ClientID: app.ClientID, Format: clerkapi.FormatOpaque})
	if err != nil {
		f.Fatal(err)
	}
	oauthJWT, err := srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: user, ClientID: app.ClientID, Scopes: []string{"a"}})
	if err != nil {
		f.Fatal(err)
	}
	keys := []string{"", srv.SecretKey, caller.SecretKey, recv.SecretKey, "ak_unknown", "sk_test_unknown", "x y", key.Secret}
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
		{"POST", "/v1/api_keys", 1, `{"name":"fuzz key","subject":"` + user + `","scopes":["read"],"claims":{"a":1},"seconds_until_expiration":60}`},
		{"GET", "/v1/api_keys?subject=" + user + "&include_invalid=true&limit=5", 1, ""},
		{"GET", "/v1/api_keys/" + key.ID, 1, ""},
		{"GET", "/v1/api_keys/" + key.ID + "/secret", 1, ""},
		{"POST", "/v1/api_keys/" + key.ID + "/revoke", 1, `{"revocation_reason":"r"}`},
		{"POST", "/api_keys/verify", 1, `{"secret":"` + key.Secret + `"}`},
		{"POST", "/v1/oauth_applications", 1, `{"name":"a","redirect_uris":["https://x/cb"],"public":true}`},
		{"GET", "/v1/oauth_applications?limit=3&order_by=-name&name_query=" + app.ClientID, 1, ""},
		{"POST", "/v1/oauth_applications/" + app.ID + "/revoke_token", 1, `{"token":"` + oat + `"}`},
		{"POST", "/oauth_applications/access_tokens/verify", 1, `{"access_token":"` + oat + `"}`},
		{"POST", "/v1/oauth_applications/access_tokens/verify", 1, `{"secret":"` + oauthJWT + `"}`},
		{"POST", "/v1/__emulator/oauth_access_tokens", 1, `{"user_id":"` + user + `","client_id":"` + app.ClientID + `","scopes":["x"],"format":"opaque","audience":["y"]}`},
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
		if !json.Valid(rec.Body.Bytes()) && (rec.Code != http.StatusNoContent || rec.Body.Len() != 0) {
			t.Fatalf("%s %q: got invalid JSON %.200q", method, path, rec.Body.Bytes())
		}
		ex := exchange{req: req, reqBody: body, status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		if err := validateExchange(doc, ex); err != nil {
			t.Fatalf("%v: answer does not conform: %v\nbody: %.300s", ex, err, ex.body)
		}
	})
}
