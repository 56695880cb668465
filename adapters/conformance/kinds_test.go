package conformance_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

const userID = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"

// TestKinds runs every kind of Clerk machine credential — M2M tokens, API
// keys, OAuth access tokens (opaque and JWT) — through every HTTP adapter,
// each on a route that accepts it ("main": M2M, audience the receiver;
// "keys": API keys with the scope orders:read; "oauth": OAuth tokens with the
// scope mcp) and on one that does not: valid, revoked, expired, unknown, of
// the wrong kind for the route, and lacking the route's scope. Every adapter
// gives the same answer; the Clerk calls each case costs in all (the first
// adapter's request asks, the others hit the cache) are asserted and logged
// as the table of issue 18.
func TestKinds(t *testing.T) {
	f := newFixture(t)
	for name, opts := range map[string][]middleware.Option{
		"keys":  {middleware.WithAccept(verifier.KindAPIKey), middleware.WithRequiredScopes("orders:read")},
		"oauth": {middleware.WithAccept(verifier.KindOAuth), middleware.WithRequiredScopes("mcp")},
	} {
		a, err := middleware.New(f.v, opts...)
		if err != nil {
			t.Fatalf("middleware.New(%s): %v", name, err)
		}
		f.auths[name] = a
	}
	servers := f.servers(t)
	app := f.clerk.CreateOAuthApplication("agent")

	apiKey := func(scopes ...string) func(t *testing.T) string {
		return func(t *testing.T) string {
			k, err := f.clerk.CreateAPIKey(clerktest.APIKeyParams{Name: "export", Subject: userID, Scopes: scopes})
			if err != nil {
				t.Fatal(err)
			}
			return k.Secret
		}
	}
	revokedKey := func(t *testing.T) string {
		k, err := f.clerk.CreateAPIKey(clerktest.APIKeyParams{Name: "export", Subject: userID, Scopes: []string{"orders:read"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.clerk.RevokeAPIKey(k.ID, "leaked"); err != nil {
			t.Fatal(err)
		}
		return k.Secret
	}
	expiredKey := func(t *testing.T) string {
		k, err := f.clerk.CreateAPIKey(clerktest.APIKeyParams{Name: "export", Subject: userID, Scopes: []string{"orders:read"}, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(2 * time.Minute)
		return k.Secret
	}
	oauth := func(format clerkapi.TokenFormat, ttl time.Duration, scopes ...string) func(t *testing.T) string {
		return func(t *testing.T) string {
			tok, err := f.clerk.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID,
				Scopes: scopes, Format: format, TTL: ttl})
			if err != nil {
				t.Fatal(err)
			}
			if ttl > 0 {
				f.clock.Advance(2 * ttl)
			}
			return tok
		}
	}
	revokedOAuth := func(t *testing.T) string {
		tok := oauth(clerkapi.FormatOpaque, 0, "mcp")(t)
		if err := f.clerk.RevokeOAuthAccessToken(tok); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	m2m := func(m *clerktest.Machine, format clerkapi.TokenFormat, ttl time.Duration) func(t *testing.T) string {
		return func(t *testing.T) string {
			p := clerkapi.CreateParams{TokenFormat: format}
			if ttl > 0 {
				p.SecondsUntilExpiration = clerkapi.Int64(int64(ttl / time.Second))
			}
			tok, err := f.clerk.CreateToken(m.ID, p)
			if err != nil {
				t.Fatal(err)
			}
			if ttl > 0 {
				f.clock.Advance(2 * ttl)
			}
			return tok.Token
		}
	}
	revokedM2M := func(t *testing.T) string {
		tok, err := f.clerk.CreateToken(f.caller.ID, clerkapi.CreateParams{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.clerk.RevokeToken(tok.ID, "leaked"); err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}

	type calls struct{ verify, jwks int64 }
	var table []string
	for _, tc := range []struct {
		kind, name, route string
		token             func(t *testing.T) string
		verifyAt          clerktest.Endpoint
		status            int
		wantErr           string // the body's error code
		want              calls
	}{
		{"m2m_token", "valid", "main", m2m(f.caller, "", 0), clerktest.EndpointVerify, 200, "", calls{1, 0}},
		{"m2m_token", "valid (JWT)", "main", m2m(f.caller, clerkapi.FormatJWT, 0), clerktest.EndpointVerify, 200, "", calls{0, 1}},
		{"m2m_token", "revoked", "main", revokedM2M, clerktest.EndpointVerify, 401, "invalid_token", calls{1, 0}},
		{"m2m_token", "expired", "main", m2m(f.caller, "", time.Minute), clerktest.EndpointVerify, 401, "invalid_token", calls{1, 0}},
		{"m2m_token", "unknown", "main", func(*testing.T) string { return "mt_" + strings.Repeat("u", 32) }, clerktest.EndpointVerify, 401, "invalid_token", calls{1, 0}},
		{"m2m_token", "wrong kind for the route", "keys", m2m(f.caller, "", 0), clerktest.EndpointVerify, 401, "invalid_token", calls{0, 0}},
		{"m2m_token", "not scoped to this service", "main", m2m(f.stranger, "", 0), clerktest.EndpointVerify, 403, "insufficient_scope", calls{1, 0}},
		{"api_key", "valid", "keys", apiKey("orders:read"), clerktest.EndpointAPIKeyVerify, 200, "", calls{1, 0}},
		{"api_key", "revoked", "keys", revokedKey, clerktest.EndpointAPIKeyVerify, 401, "invalid_token", calls{1, 0}},
		{"api_key", "expired", "keys", expiredKey, clerktest.EndpointAPIKeyVerify, 401, "invalid_token", calls{1, 0}},
		{"api_key", "unknown", "keys", func(*testing.T) string { return "ak_" + strings.Repeat("u", 40) }, clerktest.EndpointAPIKeyVerify, 401, "invalid_token", calls{1, 0}},
		{"api_key", "wrong kind for the route", "main", apiKey("orders:read"), clerktest.EndpointAPIKeyVerify, 401, "invalid_token", calls{0, 0}},
		{"api_key", "missing scope", "keys", apiKey("orders:write"), clerktest.EndpointAPIKeyVerify, 403, "insufficient_scope", calls{1, 0}},
		{"oauth_token", "valid (opaque)", "oauth", oauth(clerkapi.FormatOpaque, 0, "mcp"), clerktest.EndpointOAuthVerify, 200, "", calls{1, 0}},
		{"oauth_token", "valid (JWT)", "oauth", oauth(clerkapi.FormatJWT, 0, "mcp"), clerktest.EndpointOAuthVerify, 200, "", calls{0, 1}},
		{"oauth_token", "revoked", "oauth", revokedOAuth, clerktest.EndpointOAuthVerify, 401, "invalid_token", calls{1, 0}},
		{"oauth_token", "expired (opaque)", "oauth", oauth(clerkapi.FormatOpaque, time.Minute, "mcp"), clerktest.EndpointOAuthVerify, 401, "invalid_token", calls{1, 0}},
		{"oauth_token", "expired (JWT)", "oauth", oauth(clerkapi.FormatJWT, time.Minute, "mcp"), clerktest.EndpointOAuthVerify, 401, "invalid_token", calls{0, 1}},
		{"oauth_token", "unknown", "oauth", func(*testing.T) string { return "oat_" + strings.Repeat("u", 32) }, clerktest.EndpointOAuthVerify, 401, "invalid_token", calls{1, 0}},
		{"oauth_token", "wrong kind for the route", "main", oauth(clerkapi.FormatOpaque, 0, "mcp"), clerktest.EndpointOAuthVerify, 401, "invalid_token", calls{0, 0}},
		{"oauth_token", "wrong kind for the route (JWT)", "keys", oauth(clerkapi.FormatJWT, 0, "mcp"), clerktest.EndpointOAuthVerify, 401, "invalid_token", calls{0, 1}},
		{"oauth_token", "missing scope", "oauth", oauth(clerkapi.FormatOpaque, 0, "read"), clerktest.EndpointOAuthVerify, 403, "insufficient_scope", calls{1, 0}},
	} {
		t.Run(tc.kind+"/"+tc.name, func(t *testing.T) {
			tok := tc.token(t)
			// The JWKS may be fetched by an earlier case; count from here.
			jwks0 := f.clerk.Calls(clerktest.EndpointJWKS)
			if tc.want.jwks > 0 {
				f.v.Invalidate(tok)
			}
			before := calls{f.clerk.Calls(tc.verifyAt), jwks0}
			got, cts := map[string]answer{}, map[string]string{}
			for _, ad := range adapters {
				req, _ := http.NewRequest(http.MethodGet, servers[ad.name][tc.route].URL+"/api/whoami", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := servers[ad.name][tc.route].Client().Do(req)
				if err != nil {
					t.Fatalf("%s: %v", ad.name, err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				a, err := readAnswer(res.StatusCode, res.Header, body)
				if err != nil {
					t.Fatalf("%s: %v", ad.name, err)
				}
				if a.Status != tc.status || a.field("error") != tc.wantErr {
					t.Errorf("%s: got %d %q, want %d %q", ad.name, a.Status, a.field("error"), tc.status, tc.wantErr)
				}
				if strings.Contains(a.WWW+a.Body, tok[len(tok)-12:]) {
					t.Errorf("%s: the answer echoes the token", ad.name)
				}
				got[ad.name], cts[ad.name] = a, res.Header.Get("Content-Type")
			}
			checkSame(t, got, cts)
			spent := calls{f.clerk.Calls(tc.verifyAt) - before.verify, f.clerk.Calls(clerktest.EndpointJWKS) - before.jwks}
			// JWKS fetches: at most the expected (the keys may be cached, or
			// due again after the clock moved for an expired case).
			if spent.verify != tc.want.verify || spent.jwks > tc.want.jwks {
				t.Errorf("Clerk calls: got %d verify and %d JWKS, want %d and at most %d", spent.verify, spent.jwks, tc.want.verify, tc.want.jwks)
			}
			ref := got[adapters[0].name]
			table = append(table, fmt.Sprintf("| %s | %s | `%s` | %d | %s | %d | %d |", tc.kind, tc.name, tc.route, ref.Status,
				challengeError(ref.WWW), spent.verify, spent.jwks))
		})
	}
	t.Logf("kind × case through net/http, Echo v4, Echo v5 and Gin (identical answers):\n"+
		"| kind | case | route | status | WWW-Authenticate error | verify calls | JWKS calls |\n| --- | --- | --- | --- | --- | --- | --- |\n%s",
		strings.Join(table, "\n"))
}

// challengeError is the error attribute of a WWW-Authenticate challenge,
// with its scope attribute if any; "-" for none.
func challengeError(www string) string {
	_, e, ok := strings.Cut(www, `error="`)
	if !ok {
		return "-"
	}
	e, _, _ = strings.Cut(e, `"`)
	if _, s, ok := strings.Cut(www, `scope="`); ok {
		s, _, _ = strings.Cut(s, `"`)
		e += ` scope="` + s + `"`
	}
	return e
}
