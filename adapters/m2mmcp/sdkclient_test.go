package m2mmcp_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/m2mauth/m2mauth/adapters/m2mmcp"
	"github.com/m2mauth/m2mauth/clerktest"
)

// TestSDKClientDiscovers: the Go SDK's own OAuth client side, given no
// token, finds everything from the 401 (resource_metadata, scope), gets a
// token for this resource from the emulator's authorization server and
// calls the tool; given a valid token without the scope mcp, it reads the
// 403 as MCP's step-up signal (error="insufficient_scope", scope="mcp"),
// authorizes again for that scope and the call goes through.
func TestSDKClientDiscovers(t *testing.T) {
	f := newFixture(t, m2mmcp.Config{Scopes: []string{"mcp"}}, nil)
	for _, tc := range []struct {
		name    string
		initial string // the client's first token; "" for none
	}{
		{"no token", ""},
		{"token without the scope (step-up)", f.oauth(t, clerktest.OAuthAccessTokenParams{Scopes: []string{"read"}, Audience: []string{f.resource}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			authorizations := 0
			cfg := &auth.AuthorizationCodeHandlerConfig{
				DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
					ClientName: "m2mmcp test", RedirectURIs: []string{redirectURI}, TokenEndpointAuthMethod: "none"}},
				AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
					authorizations++
					return followToRedirect(ctx, t, args.URL)
				},
			}
			if tc.initial != "" {
				cfg.InitialTokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tc.initial, TokenType: "Bearer"})
			}
			h, err := auth.NewAuthorizationCodeHandler(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := mcp.NewClient(&mcp.Implementation{Name: "m2mmcp-test-client", Version: "1"}, nil)
			cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: f.resource, HTTPClient: f.srv.Client(),
				OAuthHandler: h, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			got := callWhoami(t, cs)
			if got.Subject != clerktest.DefaultOAuthUserID || !slices.Contains(got.Scopes, "mcp") || authorizations != 1 {
				t.Errorf("got %+v after %d authorizations, want the emulator's user with the scope mcp after 1", got, authorizations)
			}
		})
	}
}

const redirectURI = "http://127.0.0.1:33418/callback"

// followToRedirect opens the authorization URL as a browser would, the
// emulator granting consent at once, and reads the code from the redirect to
// redirectURI.
func followToRedirect(ctx context.Context, t *testing.T, authURL string) (*auth.AuthorizationResult, error) {
	c := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectURI) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	defer c.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	loc, err := res.Location()
	if err != nil {
		t.Fatalf("authorization: got %d without a redirect: %v", res.StatusCode, err)
	}
	q := loc.Query()
	if q.Get("code") == "" {
		t.Fatalf("authorization: got a redirect without a code: error=%q %q", q.Get("error"), q.Get("error_description"))
	}
	return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
}
