// Package mcpserver is the MCP server of examples/mcp, shared by the command
// (examples/mcp) and the client, which runs it in process when it is given
// no server to call: two tools, whoami and greet, that answer with the
// caller's identity and scopes, served over streamable HTTP behind
// m2mmcp, and the Protected Resource Metadata beside them.
//
// A Server is safe for concurrent use.
package mcpserver

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/m2mauth/m2mauth/adapters/m2mmcp"
	"github.com/m2mauth/m2mauth/middleware"
)

// Server is the example's MCP server, protected.
type Server struct {
	// Handler serves the MCP endpoint at the path of the resource URL and
	// the metadata at its well-known URIs.
	Handler http.Handler
	// RS is its resource server (MetadataURL, for printing).
	RS  *m2mmcp.ResourceServer
	mcp *mcp.Server
}

// New builds the server of cfg (its Scopes are typically {"mcp"}) on v; opts
// go to m2mmcp.New (WithAccept and WithAudience to let machines in).
func New(v middleware.Verifier, cfg m2mmcp.Config, opts ...middleware.Option) (*Server, error) {
	rs, err := m2mmcp.New(v, cfg, opts...)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.Resource) // m2mmcp.New checked it
	if err != nil {
		return nil, err
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	s := &Server{RS: rs, mcp: mcp.NewServer(&mcp.Implementation{Name: "m2mauth-mcp-example", Version: "1.0.0"}, nil)}
	mcp.AddTool(s.mcp, &mcp.Tool{Name: "whoami",
		Description: "Who is calling: the user (or machine) the access token speaks for, its scopes and the OAuth client."}, whoami)
	mcp.AddTool(s.mcp, &mcp.Tool{Name: "greet",
		Description: "Greets someone on behalf of the caller."}, greet)

	mux := http.NewServeMux()
	mux.Handle(path, rs.Middleware(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp }, nil)))
	mux.Handle("/.well-known/oauth-protected-resource"+path, rs.Metadata())
	mux.Handle("/.well-known/oauth-protected-resource", rs.Metadata())
	s.Handler = mux
	return s, nil
}

// CloseSessions ends the MCP sessions in progress (their event streams
// included), so that an http.Server's Shutdown need not wait for them.
func (s *Server) CloseSessions() {
	for ss := range s.mcp.Sessions() {
		_ = ss.Close()
	}
}

// Caller is the answer of the tool whoami: who called, never the token.
type Caller struct {
	Subject   string    `json:"subject"` // user_… (OAuth), mch_… (M2M)
	Kind      string    `json:"kind"`    // oauth_token or m2m_token
	Scopes    []string  `json:"scopes"`
	ClientID  string    `json:"client_id,omitempty"` // the OAuth application
	TokenID   string    `json:"token_id,omitempty"`
	Format    string    `json:"format"` // opaque or jwt
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

var errNoToken = errors.New("not authenticated") // only without the middleware in front: fail closed

func whoami(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, Caller, error) {
	tok, ok := m2mmcp.Token(req)
	if !ok {
		return nil, Caller{}, errNoToken
	}
	return nil, Caller{Subject: tok.Subject, Kind: string(tok.Kind), Scopes: tok.Scopes, ClientID: tok.ClientID,
		TokenID: tok.ID, Format: string(tok.Format), ExpiresAt: tok.ExpiresAt}, nil
}

// GreetArgs are the arguments of the tool greet.
type GreetArgs struct {
	Name string `json:"name" jsonschema:"whom to greet"`
}

// Greeting is the answer of the tool greet.
type Greeting struct {
	Text   string   `json:"text"`
	From   string   `json:"from"` // the caller's subject
	Scopes []string `json:"scopes"`
}

func greet(_ context.Context, req *mcp.CallToolRequest, args GreetArgs) (*mcp.CallToolResult, Greeting, error) {
	tok, ok := m2mmcp.Token(req)
	if !ok {
		return nil, Greeting{}, errNoToken
	}
	name := args.Name
	if name == "" {
		name = "world"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return nil, Greeting{Text: "Hello, " + name + "!", From: tok.Subject, Scopes: tok.Scopes}, nil
}
