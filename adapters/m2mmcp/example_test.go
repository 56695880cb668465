package m2mmcp_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/m2mauth/m2mauth/adapters/m2mmcp"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

type greeting struct {
	Text string `json:"text"`
}

func ExampleNew() {
	// A Clerk instance: here the emulator (in production CLERK_SECRET_KEY and
	// CLERK_PUBLISHABLE_KEY).
	clerk := clerktest.NewServer()
	defer clerk.Close()
	v, err := verifier.New(clerk.SecretKey, verifier.WithBaseURL(clerk.URL))
	if err != nil {
		panic(err)
	}
	defer v.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	resource := "http://" + ln.Addr().String() + "/mcp" // in production https://…
	rs, err := m2mmcp.New(v, m2mmcp.Config{Resource: resource, PublishableKey: clerk.PublishableKey, Scopes: []string{"mcp"}})
	if err != nil {
		panic(err)
	}

	server := mcp.NewServer(&mcp.Implementation{Name: "hello", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "hello"}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, greeting, error) {
		tok, ok := m2mmcp.Token(req)
		if !ok {
			return nil, greeting{}, fmt.Errorf("not authenticated")
		}
		return nil, greeting{Text: "hello " + tok.Subject}, nil
	})
	mux := http.NewServeMux()
	mux.Handle("/mcp", rs.Middleware(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)))
	mux.Handle("/.well-known/oauth-protected-resource/mcp", rs.Metadata())
	mux.Handle("/.well-known/oauth-protected-resource", rs.Metadata())
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	// Without a token: 401, and where to find the authorization server.
	res, err := http.Post(resource, "application/json", strings.NewReader(`{}`))
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, strings.Contains(res.Header.Get("WWW-Authenticate"), `resource_metadata="`+rs.MetadataURL()+`"`))

	// With an OAuth access token for this server, as Clerk issues it at the
	// end of the client's authorization (here minted by the emulator).
	app := clerk.CreateOAuthApplication("agent")
	token, err := clerk.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{
		UserID: "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk", ClientID: app.ClientID, Scopes: []string{"mcp"}, Audience: []string{resource}})
	if err != nil {
		panic(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: resource,
		HTTPClient: &http.Client{Transport: bearer{token: token, next: http.DefaultTransport}}}, nil)
	if err != nil {
		panic(err)
	}
	defer cs.Close()
	out, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "hello"})
	if err != nil {
		panic(err)
	}
	fmt.Println(out.StructuredContent)
	// Output:
	// 401 true
	// map[text:hello user_2xhFjEI5X2qWRvtV13BzSj8H6Dk]
}
