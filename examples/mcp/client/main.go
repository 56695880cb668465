// Command client is an MCP client that does what an AI agent's MCP client
// does the first time it meets a server protected by Clerk, with the
// official Go SDK's client side (mcp.StreamableClientTransport with an
// auth.AuthorizationCodeHandler), and prints every step:
//
//  1. it calls the MCP endpoint without a token and gets 401 with
//     WWW-Authenticate: Bearer resource_metadata="…";
//  2. it reads the Protected Resource Metadata there (RFC 9728) and finds
//     the authorization server, the Clerk instance's Frontend API;
//  3. it reads the authorization server's metadata (RFC 8414);
//  4. it registers itself as an OAuth client (RFC 7591);
//  5. it opens the authorization URL (code flow with PKCE S256, the
//     resource indicator of RFC 8707 and the scope the 401 named): where a
//     desktop client would open a browser for the user to sign in and
//     consent, it follows the redirects itself (the emulator grants consent
//     for its test user at once) and reads the code from the redirect to its
//     loopback redirect URI;
//  6. it exchanges the code for an access token (with the PKCE verifier);
//  7. it calls the endpoint again with the token, lists the tools and calls
//     them.
//
// Secrets (tokens, codes, the PKCE verifier, client secrets) are elided
// from what it prints.
//
//	go run ./examples/mcp/client                              # starts the emulator and the server in process
//	MCP_URL=http://127.0.0.1:8080/mcp go run ./examples/mcp/client   # calls a running server (go run ./examples/mcp)
//
// Environment:
//
//	MCP_URL   the MCP endpoint to call; without it the client starts the Clerk emulator and
//	          the example server (examples/mcp/mcpserver) on loopback ports and calls that
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/m2mauth/m2mauth/adapters/m2mmcp"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/examples/mcp/mcpserver"
	"github.com/m2mauth/m2mauth/verifier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// redirectURI is where the authorization server sends the code. A desktop
// client listens there (RFC 8252 §7.3); this one never needs to, since it
// reads the code from the redirect's Location.
const redirectURI = "http://127.0.0.1:33418/callback"

// run performs the discovery and the tool calls against MCP_URL (or an
// in-process server), printing the transcript to stdout.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	target := getenv("MCP_URL")
	if target == "" {
		url, stop, err := startServer(stdout)
		if err != nil {
			return err
		}
		defer stop()
		target = url
	}

	tr := &transcript{w: stdout, next: &http.Transport{}}
	defer tr.next.(*http.Transport).CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	oauth, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			ClientName:              "m2mauth MCP example client",
			RedirectURIs:            []string{redirectURI},
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			TokenEndpointAuthMethod: "none", // a public client: PKCE, no secret
		}},
		AuthorizationCodeFetcher: followAuthorization(hc),
		Client:                   hc,
	})
	if err != nil {
		return err
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "m2mauth-mcp-example-client", Version: "1.0.0"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: target, HTTPClient: hc, OAuthHandler: oauth,
		MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		return tr.explain(err)
	}
	defer cs.Close()

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		return err
	}
	names := make([]string, len(tools.Tools))
	for i, t := range tools.Tools {
		names[i] = t.Name
	}
	fmt.Fprintf(stdout, "\ntools: %s\n", strings.Join(names, ", "))
	for _, call := range []mcp.CallToolParams{
		{Name: "whoami"},
		{Name: "greet", Arguments: map[string]any{"name": "Ada"}},
	} {
		res, err := cs.CallTool(ctx, &call)
		if err != nil {
			return err
		}
		if res.IsError {
			return fmt.Errorf("tool %s: %v", call.Name, res.Content)
		}
		out, err := json.Marshal(res.StructuredContent)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s → %s\n", call.Name, out)
	}
	return nil
}

// followAuthorization is the AuthorizationCodeFetcher: it opens the
// authorization URL, follows the authorization server's redirects and
// stops at the one to redirectURI, whose query holds the code and the state
// (or the error).
func followAuthorization(hc *http.Client) auth.AuthorizationCodeFetcher {
	return func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		c := *hc
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), redirectURI) {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("authorization: more than 10 redirects")
			}
			return nil
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, args.URL, nil)
		if err != nil {
			return nil, err
		}
		res, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
		loc, err := res.Location()
		if err != nil || !strings.HasPrefix(loc.String(), redirectURI) {
			return nil, fmt.Errorf("authorization: %s answered %d without a redirect to %s", res.Request.URL.Redacted(), res.StatusCode, redirectURI)
		}
		q := loc.Query()
		if e := q.Get("error"); e != "" {
			return nil, fmt.Errorf("authorization refused: %s: %s", e, q.Get("error_description"))
		}
		return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
	}
}

// startServer starts, on loopback ports, the Clerk emulator (which is also
// the authorization server) and the example's MCP server, and returns the
// MCP endpoint's URL.
func startServer(stdout io.Writer) (string, func(), error) {
	clerk := clerktest.NewServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		clerk.Close()
		return "", nil, err
	}
	resource := "http://" + ln.Addr().String() + "/mcp"
	v, err := verifier.New(clerk.SecretKey, verifier.WithBaseURL(clerk.URL))
	if err != nil {
		ln.Close()
		clerk.Close()
		return "", nil, err
	}
	srv, err := mcpserver.New(v, m2mmcp.Config{Resource: resource, PublishableKey: clerk.PublishableKey, Scopes: []string{"mcp"}})
	if err != nil {
		_ = v.Close()
		ln.Close()
		clerk.Close()
		return "", nil, err
	}
	hs := &http.Server{Handler: srv.Handler}
	served := make(chan struct{})
	go func() { defer close(served); _ = hs.Serve(ln) }()
	u, _ := url.Parse(clerk.URL)
	fmt.Fprintf(stdout, "No MCP_URL: started the Clerk emulator (the authorization server) at http://%s and the example MCP server at %s\n\n", u.Host, resource)
	return resource, func() {
		srv.CloseSessions()
		_ = hs.Close()
		<-served
		_ = v.Close()
		clerk.Close()
	}, nil
}
