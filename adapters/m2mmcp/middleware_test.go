package m2mmcp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/adapters/m2mmcp"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestRefusals sends an MCP initialize request with every kind of
// credential a client may present to a server that accepts OAuth access
// tokens with the scope mcp, and checks the status, the WWW-Authenticate
// challenge (resource_metadata on every 401 and 403, scope on the 401s,
// RFC 6750's error), the JSON body's error and the Clerk calls each cost. It
// logs the table.
func TestRefusals(t *testing.T) {
	f := newFixture(t, m2mmcp.Config{Scopes: []string{"mcp"}}, nil)
	rm := `resource_metadata="` + f.rs.MetadataURL() + `"`
	machine := f.clerk.CreateMachine("agent-machine")

	oauth := func(format clerkapi.TokenFormat, ttl time.Duration, aud []string, scopes ...string) func(*testing.T) string {
		return func(t *testing.T) string {
			tok := f.oauth(t, clerktest.OAuthAccessTokenParams{Scopes: scopes, Format: format, TTL: ttl, Audience: aud})
			if ttl > 0 {
				f.clock.Advance(2 * ttl)
			}
			return tok
		}
	}
	here := []string{f.resource}
	revoked := func(t *testing.T) string {
		tok := oauth(opaque, 0, nil, "mcp")(t)
		if err := f.clerk.RevokeOAuthAccessToken(tok); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	m2m := func(format clerkapi.TokenFormat) func(*testing.T) string {
		return func(t *testing.T) string {
			tok, err := f.clerk.CreateToken(machine.ID, clerkapi.CreateParams{TokenFormat: format})
			if err != nil {
				t.Fatal(err)
			}
			return tok.Token
		}
	}
	apiKey := func(t *testing.T) string {
		k, err := f.clerk.CreateAPIKey(clerktest.APIKeyParams{Name: "cli", Subject: userID, Scopes: []string{"mcp"}})
		if err != nil {
			t.Fatal(err)
		}
		return k.Secret
	}
	fixed := func(s string) func(*testing.T) string { return func(*testing.T) string { return s } }

	type calls struct{ verify, jwks int64 }
	var table []string
	for _, tc := range []struct {
		name    string
		auth    func(t *testing.T) string // the Authorization value: "Bearer " + this unless it has a space
		status  int
		www     string // the whole challenge, with RM for resource_metadata="…"
		wantErr string // the body's error code; "" for a 200
		want    calls
	}{
		{"valid opaque", oauth(opaque, 0, nil, "mcp"), 200, "", "", calls{1, 0}},
		{"valid JWT, aud this server", oauth(jwt, 0, here, "mcp"), 200, "", "", calls{0, 1}},
		{"valid JWT, aud this server and another", oauth(jwt, 0, []string{"https://other.example/mcp", f.resource}, "mcp"), 200, "", "", calls{0, 1}},
		{"valid JWT, aud this server with a trailing slash", oauth(jwt, 0, []string{f.resource + "/"}, "mcp"), 200, "", "", calls{0, 1}},
		{"valid JWT, no aud", oauth(jwt, 0, nil, "mcp", "read"), 200, "", "", calls{0, 1}},
		{"no token", fixed(""), 401, `Bearer realm="api", RM, scope="mcp"`, "missing_token", calls{0, 0}},
		{"other scheme", fixed("Basic dXNlcjpwYXNz"), 401, `Bearer realm="api", RM, scope="mcp"`, "missing_token", calls{0, 0}},
		{"malformed header", fixed("Bearer two words"), 401, `Bearer realm="api", RM, scope="mcp"`, "missing_token", calls{0, 0}},
		{"junk", fixed("Bearer junk.not-a-token"), 401, `Bearer realm="api", error="invalid_token", error_description="not a Clerk machine credential (mt_..., ak_..., oat_... or a JWT)", RM, scope="mcp"`, "invalid_token", calls{0, 0}},
		{"unknown opaque", fixed("Bearer oat_" + strings.Repeat("u", 32)), 401, `Bearer realm="api", error="invalid_token", error_description="OAuth access token unknown, revoked or expired", RM, scope="mcp"`, "invalid_token", calls{1, 0}},
		{"expired opaque", oauth(opaque, time.Minute, nil, "mcp"), 401, `Bearer realm="api", error="invalid_token", error_description="OAuth access token unknown, revoked or expired", RM, scope="mcp"`, "invalid_token", calls{1, 0}},
		{"expired JWT", oauth(jwt, time.Minute, here, "mcp"), 401, `Bearer realm="api", error="invalid_token", error_description="token expired", RM, scope="mcp"`, "invalid_token", calls{0, 1}},
		{"revoked opaque", revoked, 401, `Bearer realm="api", error="invalid_token", error_description="OAuth access token unknown, revoked or expired", RM, scope="mcp"`, "invalid_token", calls{1, 0}},
		{"wrong aud (JWT for another resource)", oauth(jwt, 0, []string{"https://other.example/mcp"}, "mcp"), 401, `Bearer realm="api", error="invalid_token", error_description="token issued for another resource", RM, scope="mcp"`, "invalid_token", calls{0, 1}},
		{"wrong aud and missing scope", oauth(jwt, 0, []string{"https://other.example/mcp"}, "read"), 401, `Bearer realm="api", error="invalid_token", error_description="token issued for another resource", RM, scope="mcp"`, "invalid_token", calls{0, 1}},
		{"missing scope (opaque)", oauth(opaque, 0, nil, "read"), 403, `Bearer realm="api", error="insufficient_scope", error_description="token lacks a scope this service requires", scope="mcp", RM`, "insufficient_scope", calls{1, 0}},
		{"missing scope (JWT)", oauth(jwt, 0, here), 403, `Bearer realm="api", error="insufficient_scope", error_description="token lacks a scope this service requires", scope="mcp", RM`, "insufficient_scope", calls{0, 1}},
		{"wrong kind: M2M token", m2m(""), 401, `Bearer realm="api", error="invalid_token", error_description="token of a kind this service does not accept", RM, scope="mcp"`, "invalid_token", calls{0, 0}},
		{"wrong kind: M2M JWT", m2m(jwt), 401, `Bearer realm="api", error="invalid_token", error_description="token of a kind this service does not accept", RM, scope="mcp"`, "invalid_token", calls{0, 1}},
		{"wrong kind: API key", apiKey, 401, `Bearer realm="api", error="invalid_token", error_description="token of a kind this service does not accept", RM, scope="mcp"`, "invalid_token", calls{0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth := tc.auth(t)
			if auth != "" && !strings.Contains(auth, " ") {
				auth = "Bearer " + auth
			}
			// JWKS fetches are counted as at most the expected: the first
			// JWT's fetch serves the later ones.
			before := calls{f.verifyCalls(), f.clerk.Calls(clerktest.EndpointJWKS)}
			res, body := f.post(t, auth)
			spent := calls{f.verifyCalls() - before.verify, f.clerk.Calls(clerktest.EndpointJWKS) - before.jwks}
			www := res.Header.Get("WWW-Authenticate")
			if res.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", res.StatusCode, body, tc.status)
			}
			if want := strings.ReplaceAll(tc.www, "RM", rm); www != want {
				t.Errorf("got WWW-Authenticate\n%s\nwant\n%s", www, want)
			}
			if tc.status != 200 {
				var b middleware.ErrorBody
				if err := json.Unmarshal([]byte(body), &b); err != nil || b.Error != tc.wantErr {
					t.Errorf("got body %s, want error %q", body, tc.wantErr)
				}
				if res.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("got Cache-Control %q, want no-store", res.Header.Get("Cache-Control"))
				}
			}
			if tok := strings.TrimPrefix(auth, "Bearer "); len(tok) > 12 && strings.Contains(www+body, tok[len(tok)-12:]) {
				t.Error("the answer echoes the token")
			}
			if spent.verify != tc.want.verify || spent.jwks > tc.want.jwks {
				t.Errorf("Clerk calls: got %d verify and %d JWKS, want %d and at most %d", spent.verify, spent.jwks, tc.want.verify, tc.want.jwks)
			}
			table = append(table, fmt.Sprintf("| %s | %d | `%s` | %d | %d |", tc.name, res.StatusCode,
				strings.ReplaceAll(www, rm, "resource_metadata=…"), spent.verify, spent.jwks))
		})
	}
	t.Logf("MCP initialize on a route for OAuth tokens with the scope mcp:\n"+
		"| case | status | WWW-Authenticate | verify calls | JWKS calls |\n| --- | --- | --- | --- | --- |\n%s",
		strings.Join(table, "\n"))
}

// TestUnavailableAndBudget: Clerk down is a 503 with Retry-After and a
// client over its budget of calls to Clerk a 429 with Retry-After, as on
// every m2mauth route: neither carries a challenge (the token was not judged).
func TestUnavailableAndBudget(t *testing.T) {
	f := newFixture(t, m2mmcp.Config{Scopes: []string{"mcp"}},
		[]verifier.Option{verifier.WithLimits(verifier.Limits{SourceRate: 0.001, SourceBurst: 1})})
	f.clerk.InjectOn(clerktest.EndpointOAuthVerify, clerktest.FailNext(2, http.StatusServiceUnavailable))
	for _, tc := range []struct {
		name   string
		status int
	}{
		{"Clerk answers 503", http.StatusServiceUnavailable},
		{"second new token of the source", http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := f.post(t, "Bearer "+f.oauth(t, clerktest.OAuthAccessTokenParams{Scopes: []string{"mcp"}, Format: opaque}))
			if res.StatusCode != tc.status || res.Header.Get("Retry-After") == "" || res.Header.Get("WWW-Authenticate") != "" {
				t.Fatalf("got %d, Retry-After %q, WWW-Authenticate %q, %s; want %d with Retry-After and no challenge",
					res.StatusCode, res.Header.Get("Retry-After"), res.Header.Get("WWW-Authenticate"), body, tc.status)
			}
		})
	}
}

// TestAcceptM2M: with WithAccept(KindOAuth, KindM2M) and an audience, a
// machine's token scoped to this service passes and the tool sees its
// subject (mch_…); one not scoped here is refused 403 with
// resource_metadata; OAuth tokens still pass.
func TestAcceptM2M(t *testing.T) {
	f := newFixtureM2M(t)
	res, body := f.post(t, "Bearer "+f.m2m(t, f.caller))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("M2M token scoped here: got %d %s, want 200", res.StatusCode, body)
	}
	res, body = f.post(t, "Bearer "+f.m2m(t, f.stranger))
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Header.Get("WWW-Authenticate"), `resource_metadata="`+f.rs.MetadataURL()+`"`) {
		t.Fatalf("M2M token scoped elsewhere: got %d %q %s, want 403 with resource_metadata", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
	}
	cs := f.connect(t, f.m2m(t, f.caller))
	got := callWhoami(t, cs)
	if got.Subject != f.caller.ID || got.Kind != string(verifier.KindM2M) || got.InfoUserID != f.caller.ID {
		t.Errorf("whoami: got %+v, want subject and TokenInfo.UserID %s, kind m2m_token", got, f.caller.ID)
	}
	cs = f.connect(t, f.oauth(t, clerktest.OAuthAccessTokenParams{Scopes: []string{"mcp"}}))
	if got := callWhoami(t, cs); got.Subject != userID {
		t.Errorf("whoami with an OAuth token: got %+v, want subject %s", got, userID)
	}
}

type m2mFixture struct {
	*fixture
	caller, stranger *clerktest.Machine
}

func newFixtureM2M(t *testing.T) *m2mFixture {
	f := &m2mFixture{}
	f.fixture = newFixtureWith(t, m2mmcp.Config{Scopes: []string{"mcp"}}, nil, func(fx *fixture) []middleware.Option {
		receiver := fx.clerk.CreateMachine("mcp-server")
		f.caller = fx.clerk.CreateMachine("agent", receiver.ID)
		f.stranger = fx.clerk.CreateMachine("stranger")
		return []middleware.Option{middleware.WithAccept(verifier.KindOAuth, verifier.KindM2M), middleware.WithAudience(receiver.ID)}
	})
	return f
}

func (f *m2mFixture) m2m(t *testing.T, m *clerktest.Machine) string {
	t.Helper()
	tok, err := f.clerk.CreateToken(m.ID, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}
