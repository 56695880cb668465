package m2mmcp_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/m2mauth/m2mauth/adapters/m2mmcp"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestToolSeesToken: through the SDK's client and streamable handler, a
// tool handler finds the verified token with m2mmcp.Token and the same facts
// in req.Extra.TokenInfo (UserID the subject, the scopes, the expiry), for
// an opaque and a JWT access token.
func TestToolSeesToken(t *testing.T) {
	f := newFixture(t, m2mmcp.Config{Scopes: []string{"mcp"}}, nil)
	for _, format := range []clerkapi.TokenFormat{opaque, jwt} {
		t.Run(string(format), func(t *testing.T) {
			issued := f.clock.Now()
			tok := f.oauth(t, clerktest.OAuthAccessTokenParams{Scopes: []string{"mcp", "read"}, Format: format,
				Audience: []string{f.resource}, TTL: 30 * time.Minute})
			got := callWhoami(t, f.connect(t, tok))
			want := whoAmI{Subject: userID, Scopes: []string{"mcp", "read"}, Kind: string(verifier.KindOAuth), ClientID: f.app.ClientID,
				InfoUserID: userID, InfoScopes: []string{"mcp", "read"}, InfoExpiry: issued.Add(30 * time.Minute).Unix()}
			if got.Subject != want.Subject || !slices.Equal(got.Scopes, want.Scopes) || got.Kind != want.Kind || got.ClientID != want.ClientID ||
				got.InfoUserID != want.InfoUserID || !slices.Equal(got.InfoScopes, want.InfoScopes) || got.InfoExpiry != want.InfoExpiry {
				t.Errorf("whoami: got %+v, want %+v", got, want)
			}
		})
	}
}

// TestToolWithoutToken: a tool handler reached without the middleware (or
// a request WithOptional let through) finds no token, and m2mmcp.Token says
// so rather than panicking.
func TestToolWithoutToken(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  mcp.Request
	}{
		{"nil request", nil},
		{"no Extra", &mcp.CallToolRequest{}},
		{"no TokenInfo", &mcp.CallToolRequest{Extra: &mcp.RequestExtra{}}},
		{"client request", &mcp.CreateMessageRequest{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tok, ok := m2mmcp.Token(tc.req); ok || tok != nil {
				t.Errorf("got (%v, %v), want (nil, false)", tok, ok)
			}
		})
	}
}

// TestSessionBoundToUser: the SDK binds a session to the TokenInfo.UserID
// of the request that opened it; since UserID is the token's subject,
// another user's valid token cannot use the session (403), while a second
// token of the same user can.
func TestSessionBoundToUser(t *testing.T) {
	f := newFixture(t, m2mmcp.Config{Scopes: []string{"mcp"}}, nil)
	mint := func(user string) string {
		return f.oauth(t, clerktest.OAuthAccessTokenParams{UserID: user, Scopes: []string{"mcp"}, Format: opaque})
	}
	res, body := f.post(t, "Bearer "+mint(userID))
	session := res.Header.Get("Mcp-Session-Id")
	if res.StatusCode != http.StatusOK || session == "" {
		t.Fatalf("initialize: got %d %s (session %q), want 200 and a session", res.StatusCode, body, session)
	}
	list := func(token string) int {
		req, _ := http.NewRequest(http.MethodPost, f.resource, strings.NewReader(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := list(mint("user_2yBmQgbUvp0VnYhAqkhS0ErJcQ1")); got != http.StatusForbidden {
		t.Errorf("another user's token on the session: got %d, want 403", got)
	}
	if got := list(mint(userID)); got != http.StatusOK {
		t.Errorf("a new token of the same user on the session: got %d, want 200", got)
	}
}

// TestThousandToolCalls measures what 1,000 tool calls over one MCP session
// with one token cost at Clerk: one verify call for an opaque token (the
// first request; every later one is a cache hit), none for a JWT (verified
// locally; one JWKS fetch). The counts are logged.
func TestThousandToolCalls(t *testing.T) {
	const n = 1000
	f := newFixture(t, m2mmcp.Config{Scopes: []string{"mcp"}}, nil)
	for _, tc := range []struct {
		format       clerkapi.TokenFormat
		verify, jwks int64
	}{
		{opaque, 1, 0},
		{jwt, 0, 1},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			tok := f.oauth(t, clerktest.OAuthAccessTokenParams{Scopes: []string{"mcp"}, Format: tc.format, Audience: []string{f.resource}})
			f.clerk.ResetCalls()
			f.v.Invalidate(tok)
			cs := f.connect(t, tok)
			for i := range n {
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
				if err != nil || res.IsError {
					t.Fatalf("call %d: got (%v, %v), want a result", i, res, err)
				}
			}
			verify, jwks := f.verifyCalls(), f.clerk.Calls(clerktest.EndpointJWKS)
			t.Logf("%d tool calls with one %s token (plus initialize and the SDK's session requests): %d verify calls, %d JWKS fetches",
				n, tc.format, verify, jwks)
			if verify != tc.verify || jwks > tc.jwks {
				t.Errorf("got %d verify calls and %d JWKS fetches, want %d and at most %d", verify, jwks, tc.verify, tc.jwks)
			}
		})
	}
}
