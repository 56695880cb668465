package clerktest_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// oauthFixture is a Fixture with an OAuth application created over HTTP.
func oauthFixture(t *testing.T) (*testkit.Fixture, string) {
	t.Helper()
	f := testkit.NewFixture(t)
	status, b := send(t, f.Srv.URL, f.Srv.SecretKey, "POST", "/oauth_applications",
		`{"name":"agent","redirect_uris":["https://agent.example/cb"],"scopes":"profile email"}`)
	if status != 200 {
		t.Fatalf("create OAuth application: got %d %s", status, b)
	}
	app := decode[struct {
		Object       string   `json:"object"`
		ID           string   `json:"id"`
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		CallbackURL  string   `json:"callback_url"`
		RedirectURIs []string `json:"redirect_uris"`
		InstanceID   string   `json:"instance_id"`
	}](t, b)
	if app.Object != "oauth_application" || !strings.HasPrefix(app.ID, "oa_") || app.ClientID == "" || app.ClientSecret == "" ||
		app.CallbackURL != "https://agent.example/cb" || app.InstanceID != f.Srv.InstanceID() {
		t.Fatalf("create OAuth application: got %+v", app)
	}
	return f, app.ClientID
}

func TestOAuthOpaqueLifecycle(t *testing.T) {
	f, clientID := oauthFixture(t)
	tok, err := f.Srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{
		UserID: userID, ClientID: clientID, Scopes: []string{"read", "mcp:tools"}, Format: clerkapi.FormatOpaque, TTL: 10 * time.Minute})
	if err != nil || !strings.HasPrefix(tok, "oat_") || strings.Count(tok, ".") != 0 {
		t.Fatalf("CreateOAuthAccessToken: got %q, %v; want an opaque oat_ token", tok, err)
	}
	f.Clock.Advance(time.Minute)
	v, err := f.Admin.VerifyOAuthAccessToken(t.Context(), tok)
	if err != nil || v.Inactive || v.Object != clerkapi.ObjectOAuthAccessToken || !clerkapi.OAuthTokenIDPattern.MatchString(v.ID) || v.ID == tok ||
		v.ClientID != clientID || v.Subject != userID || !slices.Equal(v.Scopes, []string{"read", "mcp:tools"}) || v.Revoked || v.Expired ||
		!v.Expiration.Equal(testkit.T0.Add(10*time.Minute)) || !v.CreatedAt.Equal(testkit.T0) {
		t.Fatalf("verify: got %+v, %v", v, err)
	}

	// The deprecated "secret" is accepted; both or neither are not. The
	// endpoint also answers at the origin.
	origin := strings.TrimSuffix(f.Srv.URL, "/v1")
	sk := f.Srv.SecretKey
	for _, c := range []struct {
		name, base, body string
		status           int
		code             string
	}{
		{"access_token at the origin", origin, `{"access_token":"` + tok + `"}`, 200, ""},
		{"secret", f.Srv.URL, `{"secret":"` + tok + `"}`, 200, ""},
		{"both", f.Srv.URL, `{"access_token":"` + tok + `","secret":"` + tok + `"}`, 400, "form_param_value_invalid"},
		{"neither", f.Srv.URL, `{}`, 400, "form_param_missing"},
		{"unknown field", f.Srv.URL, `{"access_token":"` + tok + `","token":"x"}`, 400, "form_param_unknown"},
		{"the token's ID", f.Srv.URL, `{"access_token":"` + v.ID + `"}`, 404, "resource_not_found"},
	} {
		status, b := send(t, c.base, sk, "POST", "/oauth_applications/access_tokens/verify", c.body)
		if status != c.status || (c.code != "" && !strings.Contains(string(b), `"code":"`+c.code+`"`)) {
			t.Errorf("%s: got %d %s, want %d %s", c.name, status, b, c.status, c.code)
		}
	}

	// Revoke through the application: 204 without a body; verify then answers 404.
	appID := appIDOf(t, f, clientID)
	resp, b := testkit.SendRaw(t, http.DefaultClient, f.Srv.URL, testkit.RawCase{Name: "revoke", Key: sk, Method: "POST",
		Path: "/oauth_applications/" + appID + "/revoke_token", Body: `{"token":"` + tok + `"}`})
	if resp.StatusCode != 204 || len(b) != 0 || resp.Header.Get("Content-Type") != "" {
		t.Fatalf("revoke_token: got %d %q (Content-Type %q), want 204 without a body", resp.StatusCode, b, resp.Header.Get("Content-Type"))
	}
	var ae *clerkapi.APIError
	if _, err := f.Admin.VerifyOAuthAccessToken(t.Context(), tok); !errors.As(err, &ae) || ae.StatusCode != 404 {
		t.Errorf("verify revoked: got %v, want 404", err)
	}
	if status, _ := send(t, f.Srv.URL, sk, "POST", "/oauth_applications/"+appID+"/revoke_token", `{"token":"`+tok+`"}`); status != 204 {
		t.Errorf("revoke again: got %d, want 204", status)
	}

	// Expiry follows the clock.
	short, _ := f.Srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: clientID, Format: clerkapi.FormatOpaque, TTL: time.Minute})
	f.Clock.Advance(time.Minute)
	if _, err := f.Admin.VerifyOAuthAccessToken(t.Context(), short); !errors.As(err, &ae) || ae.StatusCode != 404 {
		t.Errorf("verify expired opaque: got %v, want 404", err)
	}
}

// appIDOf finds an application's ID by client_id through the list's name_query.
func appIDOf(t *testing.T, f *testkit.Fixture, clientID string) string {
	t.Helper()
	status, b := send(t, f.Srv.URL, f.Srv.SecretKey, "GET", "/oauth_applications?name_query="+clientID, "")
	l := decode[struct {
		Data []struct {
			ID       string `json:"id"`
			ClientID string `json:"client_id"`
		} `json:"data"`
		TotalCount int `json:"total_count"`
	}](t, b)
	if status != 200 || l.TotalCount != 1 || len(l.Data) != 1 || l.Data[0].ClientID != clientID || strings.Contains(string(b), "client_secret") {
		t.Fatalf("list by client_id: got %d %s", status, b)
	}
	return l.Data[0].ID
}

func TestOAuthJWT(t *testing.T) {
	f, clientID := oauthFixture(t)
	tok, err := f.Srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{
		UserID: userID, ClientID: clientID, Scopes: []string{"read", "write"}, TTL: 5 * time.Minute,
		Audience: []string{"https://mcp.example/mcp"}})
	if err != nil || strings.Count(tok, ".") != 2 {
		t.Fatalf("CreateOAuthAccessToken (default format): got %q, %v; want a JWT", tok, err)
	}

	// Shaped as RFC 9068 says and signed with the instance key the JWKS publishes.
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	h := parsed.Headers[0]
	if h.Algorithm != "RS256" || h.KeyID != f.Srv.InstanceID() || h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
		t.Errorf("header: got alg %s kid %s typ %v, want RS256, the instance ID, at+jwt", h.Algorithm, h.KeyID, h.ExtraHeaders[jose.HeaderType])
	}
	var claims map[string]any
	if err := parsed.Claims(instanceKey(t, f.Srv), &claims); err != nil {
		t.Fatalf("signature against the JWKS: %v", err)
	}
	now := float64(testkit.T0.Unix())
	for k, want := range map[string]any{
		"iss": strings.TrimSuffix(f.Srv.URL, "/v1"), "sub": userID, "client_id": clientID, "scope": "read write",
		"aud": "https://mcp.example/mcp", "iat": now, "nbf": now, "exp": now + 300,
	} {
		if claims[k] != want {
			t.Errorf("claim %s: got %v, want %v", k, claims[k], want)
		}
	}
	jti, _ := claims["jti"].(string)
	if !clerkapi.OAuthTokenIDPattern.MatchString(jti) || len(claims) != 9 {
		t.Errorf("claims: got %v, want jti oat_ + 32 hex and nothing else", claims)
	}

	// The verify endpoint takes it; once expired it answers {"active": false}.
	v, err := f.Admin.VerifyOAuthAccessToken(t.Context(), tok)
	if err != nil || v.Inactive || v.ID != jti || v.ClientID != clientID || v.Subject != userID ||
		!slices.Equal(v.Scopes, []string{"read", "write"}) || !v.Expiration.Equal(testkit.T0.Add(5*time.Minute)) {
		t.Errorf("verify: got %+v, %v", v, err)
	}
	f.Clock.Advance(5 * time.Minute)
	status, b := send(t, f.Srv.URL, f.Srv.SecretKey, "POST", "/oauth_applications/access_tokens/verify", `{"access_token":"`+tok+`"}`)
	if status != 200 || string(b) != `{"active":false}` {
		t.Errorf("verify expired JWT: got %d %s, want 200 {\"active\":false}", status, b)
	}

	// Not an OAuth access token of this instance: 404.
	fresh, _ := f.Srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: clientID})
	m2mJWT := testkit.MustCreate(t, f.Srv, f.Caller.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	other := clerktest.NewServer()
	defer other.Close()
	otherApp := other.CreateOAuthApplication("elsewhere")
	foreign, _ := other.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: otherApp.ClientID})
	for name, value := range map[string]string{
		"tampered":               fresh[:len(fresh)-4] + "AAAA",
		"an M2M JWT":             m2mJWT.Token,
		"another instance's JWT": foreign,
		"garbage":                "a.b.c",
	} {
		var ae *clerkapi.APIError
		if _, err := f.Admin.VerifyOAuthAccessToken(t.Context(), value); !errors.As(err, &ae) || ae.StatusCode != 404 {
			t.Errorf("verify %s: got %v, want 404", name, err)
		}
	}
	// And an OAuth JWT is no M2M token.
	if _, err := f.Admin.VerifyToken(t.Context(), fresh); err == nil {
		t.Error("M2M verify of an OAuth JWT: got nil, want 404")
	}
	if status, _ := send(t, f.Srv.URL, f.Srv.SecretKey, "POST", "/oauth_applications/"+appIDOf(t, f, clientID)+"/revoke_token", `{"token":"`+fresh+`"}`); status != 400 {
		t.Errorf("revoke a JWT: got %d, want 400 (JWT access tokens cannot be revoked)", status)
	}
}

func TestOAuthJWTAudienceShapes(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	app := srv.CreateOAuthApplication("a")
	for _, c := range []struct {
		name string
		aud  []string
		want any
	}{
		{"none", nil, nil},
		{"one", []string{"https://a.example"}, "https://a.example"},
		{"two", []string{"https://a.example", "https://b.example"}, []any{"https://a.example", "https://b.example"}},
	} {
		tok, err := srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, Audience: c.aud})
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		var claims map[string]any
		json.Unmarshal(payload, &claims)
		got, _ := json.Marshal(claims["aud"])
		want, _ := json.Marshal(c.want)
		if _, has := claims["aud"]; string(got) != string(want) || has != (c.want != nil) {
			t.Errorf("%s: got aud %s, want %s", c.name, got, want)
		}
		if _, has := claims["scope"]; has {
			t.Errorf("%s: got a scope claim for a token without scopes", c.name)
		}
	}
}

func TestCreateOAuthAccessTokenParams(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	app := srv.CreateOAuthApplication("a")
	for _, c := range []struct {
		name  string
		p     clerktest.OAuthAccessTokenParams
		param string // "": valid
	}{
		{"jwt", clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, Format: clerkapi.FormatJWT}, ""},
		{"opaque", clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, Format: clerkapi.FormatOpaque}, ""},
		{"no user", clerktest.OAuthAccessTokenParams{ClientID: app.ClientID}, "user_id"},
		{"an org as user", clerktest.OAuthAccessTokenParams{UserID: orgID, ClientID: app.ClientID}, "user_id"},
		{"no client", clerktest.OAuthAccessTokenParams{UserID: userID}, "client_id"},
		{"unknown client", clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: "nope"}, "client_id"},
		{"scope with a space", clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, Scopes: []string{"a b"}}, "scopes"},
		{"empty scope", clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, Scopes: []string{""}}, "scopes"},
		{"scope with a quote", clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, Scopes: []string{`a"b`}}, "scopes"},
		{"bad format", clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, Format: "paseto"}, "format"},
		{"negative TTL", clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, TTL: -time.Second}, "seconds_until_expiration"},
		{"empty audience", clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, Audience: []string{""}}, "audience"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok, err := srv.CreateOAuthAccessToken(c.p)
			if c.param == "" {
				if err != nil || tok == "" {
					t.Errorf("got %q, %v; want a token", tok, err)
				}
				return
			}
			var ae *clerkapi.APIError
			if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(string(ae.Errors[0].Meta), `"`+c.param+`"`) {
				t.Errorf("got %q, %v; want a 400 about %s", tok, err, c.param)
			}
		})
	}
	if err := srv.RevokeOAuthAccessToken("oat_unknown"); err == nil {
		t.Error("RevokeOAuthAccessToken of an unknown token: got nil, want an error")
	}
	opaque, _ := srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, Format: clerkapi.FormatOpaque})
	if err := srv.RevokeOAuthAccessToken(opaque); err != nil {
		t.Errorf("RevokeOAuthAccessToken: %v", err)
	}
}

// TestMintEndpoint drives POST /v1/__emulator/oauth_access_tokens, the
// standalone emulator's way to mint OAuth access tokens.
func TestMintEndpoint(t *testing.T) {
	f, clientID := oauthFixture(t)
	sk := f.Srv.SecretKey
	status, b := send(t, f.Srv.URL, sk, "POST", "/__emulator/oauth_access_tokens",
		`{"user_id":"`+userID+`","client_id":"`+clientID+`","scopes":["read"],"format":"opaque","seconds_until_expiration":60}`)
	minted := decode[struct {
		Token string `json:"token"`
		ID    string `json:"id"`
	}](t, b)
	if status != 200 || !strings.HasPrefix(minted.Token, "oat_") || !clerkapi.OAuthTokenIDPattern.MatchString(minted.ID) || len(jsonKeys(t, b)) != 2 {
		t.Fatalf("mint: got %d %s", status, b)
	}
	if v, err := f.Admin.VerifyOAuthAccessToken(t.Context(), minted.Token); err != nil || v.ID != minted.ID || !v.Expiration.Equal(testkit.T0.Add(time.Minute)) {
		t.Errorf("verify the minted token: got %+v, %v", v, err)
	}
	_, b = send(t, f.Srv.URL, sk, "POST", "/__emulator/oauth_access_tokens", `{"user_id":"`+userID+`","client_id":"`+clientID+`"}`)
	if jwtTok := decode[struct{ Token string }](t, b); strings.Count(jwtTok.Token, ".") != 2 {
		t.Errorf("mint without a format: got %s, want a JWT", b)
	}
	for _, c := range []struct {
		name, key, path, body string
		status                int
	}{
		{"machine key", f.Caller.SecretKey, "/__emulator/oauth_access_tokens", `{"user_id":"` + userID + `","client_id":"` + clientID + `"}`, 401},
		{"unknown client", sk, "/__emulator/oauth_access_tokens", `{"user_id":"` + userID + `","client_id":"nope"}`, 400},
		{"unknown field", sk, "/__emulator/oauth_access_tokens", `{"user_id":"` + userID + `","client_id":"` + clientID + `","x":1}`, 400},
		{"no body", sk, "/__emulator/oauth_access_tokens", ``, 400},
	} {
		if status, b := send(t, f.Srv.URL, c.key, "POST", c.path, c.body); status != c.status {
			t.Errorf("%s: got %d %s, want %d", c.name, status, b, c.status)
		}
	}
	// Only under /v1.
	if status, _ := send(t, strings.TrimSuffix(f.Srv.URL, "/v1"), sk, "POST", "/__emulator/oauth_access_tokens", `{}`); status != 404 {
		t.Errorf("mint at the origin: got %d, want 404", status)
	}
}

// instanceKey returns the instance's public key as its JWKS publishes it.
func instanceKey(t *testing.T, srv *clerktest.Server) any {
	t.Helper()
	raw, _ := json.Marshal(srv.JWKS())
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", raw, err)
	}
	return set.Keys[0].Key
}

// jsonKeys returns the member names of a JSON object.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestPublishableKey(t *testing.T) {
	for _, c := range []struct {
		name, secret, prefix string
	}{
		{"test instance", "", "pk_test_"},
		{"live instance", "sk_live_0123456789abcdef", "pk_live_"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var opts []clerktest.Option
			if c.secret != "" {
				opts = append(opts, clerktest.WithSecretKey(c.secret))
			}
			srv := clerktest.NewServer(opts...)
			defer srv.Close()
			enc, ok := strings.CutPrefix(srv.PublishableKey, c.prefix)
			if !ok || strings.ContainsAny(enc, "=_") {
				t.Fatalf("got %q, want %s + unpadded standard base64", srv.PublishableKey, c.prefix)
			}
			dec, err := base64.RawStdEncoding.DecodeString(enc)
			host := strings.TrimSuffix(strings.TrimPrefix(srv.URL, "http://"), "/v1")
			if err != nil || string(dec) != host+"$" {
				t.Errorf("decoded %q, %v; want %q (the emulator's host:port and $)", dec, err, host+"$")
			}
		})
	}
}
