package clerkapi_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// TestEveryCallSendsAPIVersion: every method of the client sends
// Clerk-API-Version with the version the wire types follow, in Clerk's
// date format (YYYY-MM-DD, as @clerk/backend and clerk-sdk-go send it).
func TestEveryCallSendsAPIVersion(t *testing.T) {
	if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(clerkapi.APIVersion) {
		t.Fatalf("APIVersion %q is not a YYYY-MM-DD date", clerkapi.APIVersion)
	}
	ws, base := newWireServer(t, 200, `{}`)
	c := apiClient(t, base, "sk_test_x")
	ctx := context.Background()
	calls := []struct {
		name string
		path string
		run  func() error
	}{
		{"CreateToken", "/v1/m2m_tokens", func() error { _, err := c.CreateToken(ctx, clerkapi.CreateParams{}); return err }},
		{"ListTokens", "/v1/m2m_tokens", func() error {
			_, err := c.ListTokens(ctx, clerkapi.ListParams{Subject: "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk"})
			return err
		}},
		{"RevokeToken", "/v1/m2m_tokens/mt_f7f0ba8c3b4843ce7d85fcdd5e71853e/revoke", func() error {
			_, err := c.RevokeToken(ctx, "mt_f7f0ba8c3b4843ce7d85fcdd5e71853e", "")
			return err
		}},
		{"VerifyToken", "/v1/m2m_tokens/verify", func() error { _, err := c.VerifyToken(ctx, "mt_x"); return err }},
		{"JWKS", "/v1/jwks", func() error { _, err := c.JWKS(ctx); return err }},
		{"VerifyAPIKey", "/v1/api_keys/verify", func() error { _, err := c.VerifyAPIKey(ctx, "ak_x"); return err }},
		{"VerifyOAuthAccessToken", "/v1/oauth_applications/access_tokens/verify", func() error {
			_, err := c.VerifyOAuthAccessToken(ctx, "oat_x")
			return err
		}},
	}
	for _, call := range calls {
		if err := call.run(); err != nil {
			t.Errorf("%s: %v", call.name, err)
		}
	}
	reqs := ws.requests()
	if len(reqs) != len(calls) {
		t.Fatalf("got %d requests, want %d", len(reqs), len(calls))
	}
	for i, r := range reqs {
		if r.path != calls[i].path {
			t.Errorf("%s: got path %s, want %s", calls[i].name, r.path, calls[i].path)
		}
		if got := r.header.Values("Clerk-API-Version"); len(got) != 1 || got[0] != clerkapi.APIVersion {
			t.Errorf("%s: got Clerk-API-Version %q, want exactly [%q]", calls[i].name, got, clerkapi.APIVersion)
		}
	}
	// AllTokens and RevokeAll go through ListTokens and RevokeToken.
	for range c.AllTokens(ctx, clerkapi.ListParams{Subject: "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk"}) {
	}
	if r := ws.requests(); r[len(r)-1].header.Get("Clerk-API-Version") != clerkapi.APIVersion {
		t.Errorf("AllTokens: got no Clerk-API-Version")
	}
}
