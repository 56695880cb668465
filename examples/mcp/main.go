// Command mcp is an MCP server protected by Clerk: streamable HTTP at /mcp
// (the official Go SDK), two tools that answer with the caller's identity
// and scopes (whoami, greet), and m2mauth in front as the OAuth resource
// server the MCP authorization spec describes (adapters/m2mmcp):
//
//   - a request without a valid OAuth access token gets 401 with
//     WWW-Authenticate: Bearer resource_metadata="…", scope="mcp";
//   - the Protected Resource Metadata (RFC 9728) at
//     /.well-known/oauth-protected-resource/mcp names the Clerk instance's
//     Frontend API, derived from the publishable key, as the authorization
//     server, where an MCP client registers, authorizes and gets its token;
//   - the tools need the OAuth scope mcp (403 insufficient_scope without
//     it); a JWT access token must have been issued for this server (its
//     aud, RFC 8707); M2M tokens are refused unless MCP_ACCEPT_M2M=1.
//
// With no CLERK_SECRET_KEY it starts the embedded Clerk emulator, which is
// also the authorization server, and prints how to connect, among them the
// example client, which performs the whole discovery and calls the tools:
//
//	go run ./examples/mcp
//	go run ./examples/mcp/client
//
// Against a standalone emulator (go run ./cmd/clerk-emulator -json prints
// base_url, secret_key and publishable_key) or a Clerk instance, set:
//
//	CLERK_SECRET_KEY       the instance's Clerk secret key (sk_…)
//	CLERK_API_URL          Clerk's Backend API base URL (default https://api.clerk.com/v1)
//	CLERK_PUBLISHABLE_KEY  the instance's publishable key (pk_…): its Frontend API is the authorization server
//	ADDR                   the listen address (default 127.0.0.1:8080)
//	MCP_RESOURCE_URL       the MCP endpoint's URL as clients call it (default http://<ADDR>/mcp; https
//	                       unless on a loopback host), the resource tokens must be issued for
//	MCP_ACCEPT_M2M         1: also accept M2M tokens scoped to M2M_AUDIENCE (agents running as machines)
//	M2M_AUDIENCE           this server's machine ID (mch_…), with MCP_ACCEPT_M2M=1
//
// SIGINT or SIGTERM shuts it down gracefully.
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/m2mauth/m2mauth/adapters/m2mmcp"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/examples/mcp/mcpserver"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcp:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully. getenv reads the
// configuration (os.Getenv in main).
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	key := getenv("CLERK_SECRET_KEY")
	apiURL := cmp.Or(getenv("CLERK_API_URL"), clerkapi.DefaultBaseURL)
	publishable := getenv("CLERK_PUBLISHABLE_KEY")
	audience := getenv("M2M_AUDIENCE")
	acceptM2M := getenv("MCP_ACCEPT_M2M") == "1"
	addr := cmp.Or(getenv("ADDR"), "127.0.0.1:8080")

	var demo *clerktest.Demo
	m2mToken := "$M2M_TOKEN"
	if key == "" {
		// No Clerk key: try it out against an in-process Clerk emulator,
		// which is also the authorization server.
		var err error
		if demo, err = clerktest.StartDemo(stdout, nil); err != nil {
			return err
		}
		defer demo.Close()
		key, apiURL, publishable, audience, m2mToken = demo.SecretKey, demo.URL, demo.PublishableKey, demo.Receiver.ID, demo.Token
	}
	if publishable == "" {
		return fmt.Errorf("CLERK_PUBLISHABLE_KEY is not set: the instance's publishable key (pk_…) names the authorization server MCP clients are sent to")
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	resource := cmp.Or(getenv("MCP_RESOURCE_URL"), base+"/mcp")

	v, err := verifier.New(key, verifier.WithBaseURL(apiURL))
	if err != nil {
		return err
	}
	defer v.Close()
	var opts []middleware.Option
	if acceptM2M {
		// Agents running as machines too: M2M tokens scoped to this
		// server's machine (their scopes are machine IDs, not "mcp").
		opts = append(opts, middleware.WithAccept(verifier.KindOAuth, verifier.KindM2M), middleware.WithAudience(audience))
	}
	srv, err := mcpserver.New(v, m2mmcp.Config{Resource: resource, PublishableKey: publishable, Scopes: []string{"mcp"}}, opts...)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "MCP server (streamable HTTP): %s\n", resource)
	fmt.Fprintf(stdout, "Protected Resource Metadata: %s\n", srv.RS.MetadataURL())
	fmt.Fprintf(stdout, "Try:\n  curl -i -X POST %s\n  curl %s\n", resource, srv.RS.MetadataURL())
	fmt.Fprintf(stdout, "  MCP_URL=%s go run ./examples/mcp/client   # discovery, authorization, then the tools\n", resource)
	if demo != nil {
		// A token as the authorization server would issue it to a client
		// that asked for this resource, to call the server by hand.
		app := demo.CreateOAuthApplication("curl")
		tok, err := demo.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: demoUser, ClientID: app.ClientID,
			Scopes: []string{"mcp"}, Audience: []string{resource}})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  curl -H 'Authorization: Bearer %s' %s %s\n", tok, mcpHeaders, resource)
	}
	if acceptM2M {
		fmt.Fprintf(stdout, "  curl -H 'Authorization: Bearer %s' %s %s\n", m2mToken, mcpHeaders, resource)
	}
	fmt.Fprintf(stdout, "Listening on %s\n", base) // the last line: ready

	hs := &http.Server{
		Handler:           srv.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: an MCP session's event stream (GET /mcp) stays
		// open for as long as the client wants it.
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	srv.CloseSessions() // ends the open event streams, which Shutdown would wait for
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = hs.Shutdown(shutdownCtx)
	<-served // http.ErrServerClosed
	return err
}

// demoUser is the user the embedded emulator's printed token speaks for.
const demoUser = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"

// mcpHeaders are curl's arguments for an MCP initialize request.
var mcpHeaders = strings.Join([]string{
	`-H 'Content-Type: application/json'`,
	`-H 'Accept: application/json, text/event-stream'`,
	`-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'`,
}, " ")
