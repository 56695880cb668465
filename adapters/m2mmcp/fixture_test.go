package m2mmcp_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/m2mauth/m2mauth/adapters/m2mmcp"
	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

const userID = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"

// start is a date before today's: the SDK checks a token's expiry against
// the wall clock, so a token of the emulator's clock that the SDK's own check
// saw would look expired. Nothing must refuse it but the verifier.
var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is an MCP server protected by a ResourceServer on a real loopback
// listener, verifying with the emulator (whose clock the verifier shares).
type fixture struct {
	clerk    *clerktest.Server
	clock    *clerktest.Clock
	app      *clerktest.OAuthApplication
	v        *verifier.Verifier
	rs       *m2mmcp.ResourceServer
	mcp      *mcp.Server
	srv      *httptest.Server
	resource string // srv.URL + "/mcp"
}

// whoAmI is the structured answer of the test server's tool "whoami".
type whoAmI struct {
	Subject    string   `json:"subject"`
	Scopes     []string `json:"scopes"`
	Kind       string   `json:"kind"`
	ClientID   string   `json:"client_id,omitempty"`
	InfoUserID string   `json:"info_user_id"` // req.Extra.TokenInfo.UserID
	InfoScopes []string `json:"info_scopes"`
	InfoExpiry int64    `json:"info_expiry"`
}

// newFixture serves, on one listener, /mcp (the SDK's streamable handler
// behind rs.Middleware, with the tool "whoami") and the metadata at both
// well-known paths. opts go to m2mmcp.New; cfg's Resource and PublishableKey
// are filled in when empty; vopts go to verifier.New.
func newFixture(t testing.TB, cfg m2mmcp.Config, vopts []verifier.Option, opts ...middleware.Option) *fixture {
	t.Helper()
	return newFixtureWith(t, cfg, vopts, func(*fixture) []middleware.Option { return opts })
}

// newFixtureWith is newFixture with the options made by opts once the
// emulator runs (to name its machines).
func newFixtureWith(t testing.TB, cfg m2mmcp.Config, vopts []verifier.Option, opts func(*fixture) []middleware.Option) *fixture {
	t.Helper()
	f := &fixture{clock: clerktest.NewClock(start)}
	f.clerk = clerktest.NewServer(clerktest.WithClock(f.clock.Now))
	t.Cleanup(f.clerk.Close)
	f.app = f.clerk.CreateOAuthApplication("agent")
	v, err := verifier.New(f.clerk.SecretKey, append([]verifier.Option{verifier.WithBaseURL(f.clerk.URL),
		verifier.WithClock(f.clock.Now), verifier.WithLogger(slog.New(slog.DiscardHandler)), verifier.WithLimits(verifier.Limits{RefreshAhead: -1})}, vopts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	f.v = v

	f.srv = httptest.NewUnstartedServer(nil)
	f.resource = "http://" + f.srv.Listener.Addr().String() + "/mcp"
	if cfg.Resource == "" {
		cfg.Resource = f.resource
	}
	if cfg.PublishableKey == "" && cfg.AuthorizationServer == "" {
		cfg.PublishableKey = f.clerk.PublishableKey
	}
	if f.rs, err = m2mmcp.New(v, cfg, opts(f)...); err != nil {
		t.Fatal(err)
	}
	f.mcp = mcp.NewServer(&mcp.Implementation{Name: "m2mmcp-test", Version: "1"}, nil)
	mcp.AddTool(f.mcp, &mcp.Tool{Name: "whoami", Description: "who is calling"}, whoami)
	mcp.AddTool(f.mcp, &mcp.Tool{Name: "ping", Description: "answers pong, token or not"}, ping)
	mux := http.NewServeMux()
	mux.Handle("/mcp", f.rs.Middleware(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return f.mcp }, nil)))
	mux.Handle("/.well-known/oauth-protected-resource/mcp", f.rs.Metadata())
	mux.Handle("/.well-known/oauth-protected-resource", f.rs.Metadata())
	f.srv.Config.Handler = mux
	f.srv.Start()
	t.Cleanup(func() {
		for ss := range f.mcp.Sessions() {
			_ = ss.Close()
		}
		f.srv.Close()
	})
	return f
}

// whoami answers with what the tool handler sees of the caller, through both
// doors: m2mmcp.Token and the SDK's TokenInfo.
func whoami(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, whoAmI, error) {
	tok, ok := m2mmcp.Token(req)
	if !ok {
		return nil, whoAmI{}, errNoToken
	}
	info := req.Extra.TokenInfo
	return nil, whoAmI{Subject: tok.Subject, Scopes: tok.Scopes, Kind: string(tok.Kind), ClientID: tok.ClientID,
		InfoUserID: info.UserID, InfoScopes: info.Scopes, InfoExpiry: info.Expiration.Unix()}, nil
}

func ping(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "pong"}}}, nil, nil
}

type toolError string

func (e toolError) Error() string { return string(e) }

const errNoToken = toolError("no token in the request")

// oauth mints an OAuth access token of the test user for f.app.
func (f *fixture) oauth(t testing.TB, p clerktest.OAuthAccessTokenParams) string {
	t.Helper()
	if p.UserID == "" {
		p.UserID = userID
	}
	p.ClientID = f.app.ClientID
	tok, err := f.clerk.CreateOAuthAccessToken(p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// initialize is an MCP initialize request, the first POST of a session.
const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`

// post sends an MCP initialize request to /mcp with the Authorization
// value auth ("" for none) and returns the answer, its body read.
func (f *fixture) post(t testing.TB, auth string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.resource, strings.NewReader(initialize))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// connect opens an MCP session with the SDK's client, sending token with
// every request.
func (f *fixture) connect(t testing.TB, token string) *mcp.ClientSession {
	t.Helper()
	hc := &http.Client{Transport: bearer{token: token, next: f.srv.Client().Transport}}
	c := mcp.NewClient(&mcp.Implementation{Name: "m2mmcp-test-client", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: f.resource, HTTPClient: hc, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// bearer adds "Authorization: Bearer token" to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// verifyCalls counts the emulator's calls to the verify endpoints of every
// kind.
func (f *fixture) verifyCalls() int64 {
	return f.clerk.Calls(clerktest.EndpointVerify) + f.clerk.Calls(clerktest.EndpointAPIKeyVerify) +
		f.clerk.Calls(clerktest.EndpointOAuthVerify)
}

// callWhoami calls the tool "whoami" and decodes its structured answer.
func callWhoami(t testing.TB, cs *mcp.ClientSession) whoAmI {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("whoami: got a tool error %v", res.Content)
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var w whoAmI
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

var (
	opaque = clerkapi.FormatOpaque
	jwt    = clerkapi.FormatJWT
)
