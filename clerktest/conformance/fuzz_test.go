package conformance_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// FuzzHandler sends arbitrary methods, paths, keys and bodies to the
// emulator's handler, M2M, API key and OAuth endpoints alike, and the
// Frontend API's OAuth authorization server. Whatever arrives, the answer
// must be a 2xx, a 4xx or the authorization endpoint's 302 (never a panic or
// a 5xx), carry Content-Type application/json (or neither a body nor a
// Content-Type: a 204, a 302, a revocation's 200), and conform to Clerk's
// specs: the operation's schema, or ClerkErrors (OAuth's error body at the
// Frontend API) for other statuses.
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
	// The Frontend API's OAuth clients: a public one with a code to exchange,
	// a confidential one that authenticates with HTTP Basic (a key below).
	pubApp, confApp, code, refresh := seedOAuthClients(f, srv)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(confApp.id+":"+confApp.secret))
	keys := []string{"", srv.SecretKey, caller.SecretKey, recv.SecretKey, "ak_unknown", "sk_test_unknown", "x y", key.Secret, basic}
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
		{"GET", "/.well-known/oauth-authorization-server", 0, ""},
		{"GET", "/.well-known/jwks.json", 0, ""},
		{"POST", "/oauth/register", 0, `{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"none","scope":"mcp","grant_types":["authorization_code","refresh_token"]}`},
		{"GET", "/oauth/authorize?response_type=code&client_id=" + pubApp.id + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&code_challenge=" + fuzzChallenge + "&code_challenge_method=S256&state=s&scope=mcp&resource=https%3A%2F%2Fm.example", 0, ""},
		{"POST", "/oauth/token", 0, "grant_type=authorization_code&client_id=" + pubApp.id + "&code=" + code + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&code_verifier=" + fuzzVerifier},
		{"POST", "/oauth/token", 8, "grant_type=refresh_token&refresh_token=" + refresh + "&scope=profile"},
		{"POST", "/oauth/token/revoke", 8, "token=" + refresh + "&token_type_hint=refresh_token"},
	} {
		f.Add(s.method, s.path, s.key, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, path string, key uint8, body []byte) {
		req, err := http.NewRequest(method, "http://emulator"+path, bytes.NewReader(body))
		if err != nil {
			t.Skip("not a request a client can send")
		}
		switch k := keys[int(key)%len(keys)]; {
		case strings.HasPrefix(k, "Basic "):
			req.Header.Set("Authorization", k)
		case k != "":
			req.Header.Set("Authorization", "Bearer "+k)
		}
		if len(body) > 0 && body[0] != '{' && body[0] != '[' {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // the OAuth endpoints' bodies
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if ok := rec.Code/100 == 2 || rec.Code/100 == 4 || rec.Code == http.StatusFound; !ok {
			t.Fatalf("%s %q: got status %d, want 2xx, 4xx or the authorization endpoint's 302", method, path, rec.Code)
		}
		empty := rec.Body.Len() == 0
		if empty != (rec.Header().Get("Content-Type") == "") || (!empty && !json.Valid(rec.Body.Bytes())) {
			t.Fatalf("%s %q: got Content-Type %q and the body %.200q, want JSON, or no body and no Content-Type",
				method, path, rec.Header().Get("Content-Type"), rec.Body.Bytes())
		}
		ex := exchange{req: req, reqBody: body, status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		if err := validateExchange(doc, ex); err != nil {
			t.Fatalf("%v: answer does not conform: %v\nbody: %.300s", ex, err, ex.body)
		}
	})
}

// fuzzVerifier is the PKCE code_verifier of the fuzz corpus's codes, and
// fuzzChallenge its S256 code_challenge.
const (
	fuzzVerifier  = "fuzz-verifier-0123456789-0123456789-0123456789"
	fuzzChallenge = "1nSOJuWjmimVtGHANPkZpV_SfXp_-vgbhcpIIUQXbEs"
)

type seedClient struct{ id, secret string }

// seedOAuthClients registers a public and a confidential client, and returns
// them with a code of the public one and a refresh token of the
// confidential one.
func seedOAuthClients(f *testing.F, srv *clerktest.Server) (pub, conf seedClient, code, refresh string) {
	origin := strings.TrimSuffix(srv.URL, "/v1")
	do := func(req *http.Request) *http.Response {
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			f.Fatal(err)
		}
		return resp
	}
	register := func(body string) seedClient {
		resp := do(mustRequest(f, "POST", origin+"/oauth/register", "application/json", body))
		defer resp.Body.Close()
		var c struct {
			ID     string `json:"client_id"`
			Secret string `json:"client_secret"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || c.ID == "" {
			f.Fatalf("register: %d %v", resp.StatusCode, err)
		}
		return seedClient{c.ID, c.Secret}
	}
	authorize := func(c seedClient, redirect string) string {
		q := url.Values{"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {redirect},
			"code_challenge": {fuzzChallenge}, "code_challenge_method": {"S256"}}
		resp := do(mustRequest(f, "GET", origin+"/oauth/authorize?"+q.Encode(), "", ""))
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Query().Get("code") == "" {
			f.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		return loc.Query().Get("code")
	}
	pub = register(`{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"none"}`)
	conf = register(`{"redirect_uris":["https://app.example/cb"]}`)
	confCode := authorize(conf, "https://app.example/cb")
	req := mustRequest(f, "POST", origin+"/oauth/token", "application/x-www-form-urlencoded",
		"grant_type=authorization_code&code="+confCode+"&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier="+fuzzVerifier)
	req.SetBasicAuth(conf.id, conf.secret)
	resp := do(req)
	defer resp.Body.Close()
	var tok struct {
		Refresh string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Refresh == "" {
		f.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return pub, conf, authorize(pub, "http://127.0.0.1:9/cb"), tok.Refresh
}

func mustRequest(f *testing.F, method, u, contentType, body string) *http.Request {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		f.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}
