package m2mmcp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/adapters/m2mmcp"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestNew: what New accepts and refuses, and why.
func TestNew(t *testing.T) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	sk, err := verifier.New(clerk.SecretKey, verifier.WithBaseURL(clerk.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer sk.Close()
	machine := clerk.CreateMachine("mcp-server")
	ak, err := verifier.New(machine.SecretKey, verifier.WithBaseURL(clerk.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer ak.Close()
	fake := middleware.VerifierFunc(func(context.Context, string, string) (*verifier.Token, error) {
		return nil, verifier.ErrInvalidToken
	})
	good := m2mmcp.Config{Resource: "https://mcp.example.com/mcp", PublishableKey: clerk.PublishableKey}
	with := func(edit func(*m2mmcp.Config)) m2mmcp.Config { c := good; edit(&c); return c }

	for _, tc := range []struct {
		name    string
		v       middleware.Verifier
		cfg     m2mmcp.Config
		opts    []middleware.Option
		wantErr string // a part of the error; "" for none
	}{
		{"defaults", sk, good, nil, ""},
		{"any Verifier", fake, good, nil, ""},
		{"loopback http resource", sk, with(func(c *m2mmcp.Config) { c.Resource = "http://127.0.0.1:8080/mcp" }), nil, ""},
		{"localhost http resource", sk, with(func(c *m2mmcp.Config) { c.Resource = "http://localhost:8080/mcp" }), nil, ""},
		{"IPv6 loopback http resource", sk, with(func(c *m2mmcp.Config) { c.Resource = "http://[::1]:8080/mcp" }), nil, ""},
		{"explicit authorization server", sk, with(func(c *m2mmcp.Config) { c.PublishableKey, c.AuthorizationServer = "", "https://clerk.example.com" }), nil, ""},
		{"scopes", sk, with(func(c *m2mmcp.Config) { c.Scopes = []string{"mcp", "files:read"} }), nil, ""},
		{"M2M too, with an audience", sk, good, []middleware.Option{middleware.WithAccept(verifier.KindOAuth, verifier.KindM2M), middleware.WithAudience(machine.ID)}, ""},
		{"M2M only, machine key: Clerk enforces the audience", ak, good, []middleware.Option{middleware.WithAccept(verifier.KindM2M)}, ""},

		{"nil Verifier", nil, good, nil, "nil Verifier"},
		{"no resource", sk, with(func(c *m2mmcp.Config) { c.Resource = "" }), nil, "Resource is required"},
		{"relative resource", sk, with(func(c *m2mmcp.Config) { c.Resource = "/mcp" }), nil, "absolute URL"},
		{"http resource, not loopback", sk, with(func(c *m2mmcp.Config) { c.Resource = "http://mcp.example.com/mcp" }), nil, "must be https"},
		{"http resource on 0.0.0.0", sk, with(func(c *m2mmcp.Config) { c.Resource = "http://0.0.0.0:8080/mcp" }), nil, "must be https"},
		{"other scheme", sk, with(func(c *m2mmcp.Config) { c.Resource = "ftp://mcp.example.com/mcp" }), nil, "must be https"},
		{"query", sk, with(func(c *m2mmcp.Config) { c.Resource = "https://mcp.example.com/mcp?x=1" }), nil, "no query"},
		{"empty query", sk, with(func(c *m2mmcp.Config) { c.Resource = "https://mcp.example.com/mcp?" }), nil, "no query"},
		{"fragment", sk, with(func(c *m2mmcp.Config) { c.Resource = "https://mcp.example.com/mcp#x" }), nil, "no fragment"},
		{"user information", sk, with(func(c *m2mmcp.Config) { c.Resource = "https://u:p@mcp.example.com/mcp" }), nil, "user information"},
		{"quote", sk, with(func(c *m2mmcp.Config) { c.Resource = `https://mcp.example.com/m"cp` }), nil, "printable ASCII"},
		{"non-ASCII", sk, with(func(c *m2mmcp.Config) { c.Resource = "https://mcp.example.com/mcé" }), nil, "printable ASCII"},
		{"too long", sk, with(func(c *m2mmcp.Config) { c.Resource = "https://mcp.example.com/" + strings.Repeat("a", 2048) }), nil, "longer than"},
		{"no authorization server", sk, with(func(c *m2mmcp.Config) { c.PublishableKey = "" }), nil, "PublishableKey"},
		{"secret key as publishable key", sk, with(func(c *m2mmcp.Config) { c.PublishableKey = clerk.SecretKey }), nil, "not a Clerk publishable key"},
		{"http authorization server, not loopback", sk, with(func(c *m2mmcp.Config) { c.AuthorizationServer = "http://clerk.example.com" }), nil, "AuthorizationServer must be https"},
		{"bad scope", sk, with(func(c *m2mmcp.Config) { c.Scopes = []string{"two words"} }), nil, "WithRequiredScopes"},
		{"OAuth tokens with a machine key", ak, good, nil, "cannot verify"},
		{"M2M with a Clerk secret key and no audience", sk, good, []middleware.Option{middleware.WithAccept(verifier.KindM2M)}, "WithAudience"},
		{"error handler", sk, good, []middleware.Option{middleware.WithErrorHandler(func(http.ResponseWriter, *http.Request, error) {})}, "WithErrorHandler"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := m2mmcp.New(tc.v, tc.cfg, tc.opts...)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got (%v, %v), want an error with %q", rs, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), clerk.SecretKey) {
				t.Error("the error shows the secret key")
			}
		})
	}
}
