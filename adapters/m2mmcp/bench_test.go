package m2mmcp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/adapters/m2mmcp"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// BenchmarkMiddleware is the cost of the ResourceServer on a cached OAuth
// token, the verifier being a fixed-token double: m2mhttp's middleware on the
// same Authenticator options is the baseline; m2mmcp adds the audience check
// and the SDK's TokenInfo (auth.RequireBearerToken's context and its
// TokenInfo).
func BenchmarkMiddleware(b *testing.B) {
	const resource = "https://mcp.example.com/mcp"
	tok := &verifier.Token{Kind: verifier.KindOAuth, ID: "oat_0123456789abcdef0123456789abcdef", Subject: userID,
		Scopes: []string{"mcp"}, Audience: []string{resource}, ExpiresAt: time.Now().Add(time.Hour)}
	v := middleware.VerifierFunc(func(context.Context, string, string) (*verifier.Token, error) { return tok, nil })
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := middleware.TokenFromContext(r.Context()); !ok {
			w.WriteHeader(http.StatusInternalServerError)
		}
		_ = auth.TokenInfoFromContext(r.Context())
	})
	a, err := middleware.New(v, middleware.WithAccept(verifier.KindOAuth), middleware.WithRequiredScopes("mcp"))
	if err != nil {
		b.Fatal(err)
	}
	rs, err := m2mmcp.New(v, m2mmcp.Config{Resource: resource, AuthorizationServer: "https://clerk.example.com", Scopes: []string{"mcp"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"m2mhttp", m2mhttp.Middleware(a)(next)},
		{"m2mmcp", rs.Middleware(next)},
	} {
		b.Run(bc.name, func(b *testing.B) { adaptertest.ServeParallel(b, bc.h, "oat_0123456789abcdefABCDEF0123456789") })
	}
}

// BenchmarkToolCall is a whole tool call over loopback HTTP (the SDK's
// client and streamable handler, one session, a tool that answers at once),
// without m2mauth and behind the ResourceServer with a cached OAuth token
// (opaque and JWT; the emulator is asked once, before the timer starts).
func BenchmarkToolCall(b *testing.B) {
	f := newFixture(b, m2mmcp.Config{Scopes: []string{"mcp"}}, nil)
	open := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return f.mcp }, nil))
	defer open.Close()
	for _, bc := range []struct {
		name     string
		endpoint string
		token    string
	}{
		{"unprotected", open.URL, ""},
		{"m2mmcp/opaque", f.resource, f.oauth(b, clerktest.OAuthAccessTokenParams{Scopes: []string{"mcp"}, Format: opaque})},
		{"m2mmcp/jwt", f.resource, f.oauth(b, clerktest.OAuthAccessTokenParams{Scopes: []string{"mcp"}, Format: jwt, Audience: []string{f.resource}})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			hc := &http.Client{Transport: bearer{token: bc.token, next: &http.Transport{}}}
			c := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
			cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: bc.endpoint, HTTPClient: hc,
				MaxRetries: -1, DisableStandaloneSSE: true}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer cs.Close()
			params := &mcp.CallToolParams{Name: "ping"}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if res, err := cs.CallTool(context.Background(), params); err != nil || res.IsError {
					b.Fatalf("got (%v, %v)", res, err)
				}
			}
		})
	}
}
