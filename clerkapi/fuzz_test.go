package clerkapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// echoServer answers every request with status and body.
func echoServer(t testing.TB, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// answer is one canned HTTP answer, swapped between fuzz iterations.
type answer struct {
	mu         sync.Mutex
	status     int
	retryAfter string
	body       []byte
}

func (a *answer) set(status int, retryAfter string, body []byte) {
	a.mu.Lock()
	a.status, a.retryAfter, a.body = status, retryAfter, body
	a.mu.Unlock()
}

func (a *answer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	a.mu.Lock()
	status, ra, body := a.status, a.retryAfter, a.body
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	w.WriteHeader(status)
	w.Write(body)
}

// emulatorAnswers records real emulator answers (bodies and statuses) to seed
// the fuzzer.
func emulatorAnswers(f *testing.F) []struct {
	status int
	body   []byte
} {
	f.Helper()
	srv := clerktest.NewServer()
	defer srv.Close()
	recv := srv.CreateMachine("receiver")
	caller := srv.CreateMachine("caller", recv.ID)
	tok, err := srv.CreateToken(caller.ID, clerkapi.CreateParams{Claims: map[string]any{"k": []any{1, "two", nil}}})
	if err != nil {
		f.Fatal(err)
	}
	jwtTok, _ := srv.CreateToken(caller.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	srv.RevokeToken(tok.ID, "seed")
	const user = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"
	key, err := srv.CreateAPIKey(clerktest.APIKeyParams{Name: "seed", Subject: user, Scopes: []string{"read"}, Claims: map[string]any{"k": 1}})
	if err != nil {
		f.Fatal(err)
	}
	app := srv.CreateOAuthApplication("seed")
	oat, _ := srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: user, ClientID: app.ClientID, Scopes: []string{"read"}, Format: clerkapi.FormatOpaque})
	oauthJWT, _ := srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: user, ClientID: app.ClientID})
	type req struct{ key, method, path, body string }
	var out []struct {
		status int
		body   []byte
	}
	for _, q := range []req{
		{caller.SecretKey, "POST", "/m2m_tokens", `{"claims":{"a":1}}`},
		{caller.SecretKey, "POST", "/m2m_tokens", `{"token_format":"jwt"}`},
		{caller.SecretKey, "POST", "/m2m_tokens", `{"nope":1}`},
		{srv.SecretKey, "GET", "/m2m_tokens?subject=" + caller.ID + "&revoked=true", ""},
		{srv.SecretKey, "GET", "/m2m_tokens?subject=bad", ""},
		{srv.SecretKey, "POST", "/m2m_tokens/verify", `{"token":"` + jwtTok.Token + `"}`},
		{recv.SecretKey, "POST", "/m2m_tokens/verify", `{"token":"` + tok.Token + `"}`},
		{srv.SecretKey, "POST", "/m2m_tokens/" + tok.ID + "/revoke", `{"revocation_reason":"again"}`},
		{srv.SecretKey, "GET", "/jwks", ""},
		{"ak_bad", "GET", "/jwks", ""},
		{srv.SecretKey, "DELETE", "/jwks", ""},
		{srv.SecretKey, "POST", "/api_keys/verify", `{"secret":"` + key.Secret + `"}`},
		{srv.SecretKey, "POST", "/api_keys/verify", `{"secret":"ak_unknown"}`},
		{caller.SecretKey, "POST", "/api_keys/verify", `{"secret":"` + key.Secret + `"}`},
		{srv.SecretKey, "POST", "/oauth_applications/access_tokens/verify", `{"access_token":"` + oat + `"}`},
		{srv.SecretKey, "POST", "/oauth_applications/access_tokens/verify", `{"access_token":"` + oauthJWT + `"}`},
		{srv.SecretKey, "POST", "/oauth_applications/access_tokens/verify", `{"access_token":"oat_unknown"}`},
	} {
		r, _ := http.NewRequest(q.method, srv.URL+q.path, strings.NewReader(q.body))
		r.Header.Set("Authorization", "Bearer "+q.key)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, struct {
			status int
			body   []byte
		}{resp.StatusCode, b})
	}
	return out
}

// FuzzDecodeResponse feeds arbitrary statuses, Retry-After values and bodies
// through httptest to every decoding path of the client (M2M tokens, JWKS, API
// keys, OAuth access tokens). It must never panic, a 2xx success must return a
// value, every non-2xx must be an *APIError with that status (or a too-large
// error), and no error may print the key or the token the client sent.
func FuzzDecodeResponse(f *testing.F) {
	const key = "ak_fuzzsecretkey0123456789"
	const token = "mt_fuzzsecrettoken0123456789abcde"
	const apiKey = "ak_fuzzsecretapikey0123456789abcd"
	const oauthToken = "oat_fuzzsecretoauth0123456789abcd"
	for _, a := range emulatorAnswers(f) {
		f.Add(a.status, "", a.body)
	}
	f.Add(429, "7", []byte(`{"errors":[{"message":"m","long_message":"l","code":"too_many_requests"}]}`))
	f.Add(503, "Wed, 21 Oct 2015 07:28:00 GMT", []byte(`<html>`))
	f.Add(200, "", []byte(`{"expiration":1e400,"created_at":-9.3e18,"last_used_at":"x"}`))
	f.Add(200, "", []byte(`null`))
	f.Add(204, "", []byte(``))
	f.Add(200, "", []byte(apiKeyAnswer))
	f.Add(200, "", []byte(oauthAnswer))
	f.Add(200, "", []byte(`{"active":false}`))
	f.Add(200, "", []byte(`{"active":"`+oauthToken+`"}`))

	ans := &answer{}
	srv := httptest.NewServer(ans)
	f.Cleanup(srv.Close)
	api, err := clerkapi.New(key, clerkapi.WithBaseURL(srv.URL+"/v1"), clerkapi.WithMaxResponseBytes(64<<10),
		clerkapi.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		status = 200 + (status%400+400)%400 // 200–599
		if !printableASCII(retryAfter) || len(retryAfter) > 200 {
			retryAfter = "" // not a header value a server can send
		}
		ans.set(status, retryAfter, body)
		ctx := context.Background()
		calls := []struct {
			name string
			run  func() (any, error)
		}{
			{"create", func() (any, error) { return api.CreateToken(ctx, clerkapi.CreateParams{}) }},
			{"list", func() (any, error) {
				return api.ListTokens(ctx, clerkapi.ListParams{Subject: "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk"})
			}},
			{"revoke", func() (any, error) { return api.RevokeToken(ctx, "mt_f7f0ba8c3b4843ce7d85fcdd5e71853e", "r") }},
			{"verify", func() (any, error) { return api.VerifyToken(ctx, token) }},
			{"jwks", func() (any, error) { return api.JWKS(ctx) }},
			{"verify api key", func() (any, error) { return api.VerifyAPIKey(ctx, apiKey) }},
			{"verify oauth", func() (any, error) { return api.VerifyOAuthAccessToken(ctx, oauthToken) }},
		}
		for _, c := range calls {
			v, err := c.run()
			if err != nil {
				if msg := err.Error(); strings.Contains(msg, key) || strings.Contains(msg, token) ||
					strings.Contains(msg, apiKey) || strings.Contains(msg, oauthToken) {
					t.Fatalf("%s: error %q contains the key or the token", c.name, msg)
				}
			}
			var ae *clerkapi.APIError
			switch {
			case status >= 300 && errors.Is(err, clerkapi.ErrResponseTooLarge):
			case status >= 300:
				if !errors.As(err, &ae) || ae.StatusCode != status {
					t.Fatalf("%s: status %d: got %v, want an *APIError with that status", c.name, status, err)
				}
				if ae.RetryAfter < 0 || ae.RetryAfter > 24*time.Hour {
					t.Fatalf("%s: Retry-After %q parsed as %v, want 0–24h", c.name, retryAfter, ae.RetryAfter)
				}
			case err == nil && isNilValue(v):
				t.Fatalf("%s: status %d: got neither a value nor an error", c.name, status)
			case err != nil && errors.As(err, &ae):
				t.Fatalf("%s: status %d: got an *APIError for a success status", c.name, status)
			}
		}
	})
}

func isNilValue(v any) bool {
	switch x := v.(type) {
	case *clerkapi.M2MToken:
		return x == nil
	case *clerkapi.M2MTokenList:
		return x == nil
	case *clerkapi.JWKS:
		return x == nil
	case *clerkapi.APIKey:
		return x == nil
	case *clerkapi.OAuthAccessToken:
		return x == nil
	}
	return v == nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
