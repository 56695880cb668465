package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/examples/internal/demotest"
	"github.com/m2mauth/m2mauth/middleware"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// initialize is the body of an MCP initialize request.
const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}`

// post sends an MCP initialize request to url with the Authorization value
// auth ("" for none).
func post(t *testing.T, url, auth string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(initialize))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
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

// TestRunEmbedded: with no Clerk key the example starts the emulator, prints
// the MCP URL, the metadata URL and a token, answers 401 with the MCP
// challenge without a token, serves the metadata naming the emulator, and
// lets the printed token in.
func TestRunEmbedded(t *testing.T) {
	base, printed := demotest.Start(t, run, map[string]string{"ADDR": "127.0.0.1:0"})
	resource := base + "/mcp"
	metadata := base + "/.well-known/oauth-protected-resource/mcp"
	for _, want := range []string{"MCP server (streamable HTTP): " + resource + "\n", "Protected Resource Metadata: " + metadata + "\n",
		"MCP_URL=" + resource + " go run ./examples/mcp/client"} {
		if !strings.Contains(printed, want) {
			t.Errorf("got output\n%s\nwant it to contain %q", printed, want)
		}
	}
	emulator := regexp.MustCompile(`Clerk emulator \(in-process\): (http://\S+)/v1`).FindStringSubmatch(printed)
	token := regexp.MustCompile(`curl -H 'Authorization: Bearer (ey\S+)'`).FindStringSubmatch(printed)
	if emulator == nil || token == nil {
		t.Fatalf("got output\n%s\nwant the emulator's URL and a curl line with a token", printed)
	}

	res, _ := post(t, resource, "")
	if want := `Bearer realm="api", resource_metadata="` + metadata + `", scope="mcp"`; res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != want {
		t.Errorf("without a token: got %d %q, want 401 %q", res.StatusCode, res.Header.Get("WWW-Authenticate"), want)
	}
	res, body := post(t, resource, "Bearer "+token[1])
	if res.StatusCode != 200 || res.Header.Get("Mcp-Session-Id") == "" {
		t.Errorf("with the printed token: got %d %s, want 200 and a session", res.StatusCode, body)
	}

	mres, err := http.Get(metadata)
	if err != nil {
		t.Fatal(err)
	}
	defer mres.Body.Close()
	var doc struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	if err := json.NewDecoder(mres.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Resource != resource || len(doc.AuthorizationServers) != 1 || doc.AuthorizationServers[0] != emulator[1] ||
		len(doc.ScopesSupported) != 1 || doc.ScopesSupported[0] != "mcp" {
		t.Errorf("metadata: got %+v, want resource %s, the emulator %s, scope mcp", doc, resource, emulator[1])
	}
}

// emulatorEnv is the example's configuration against a standalone emulator
// (what cmd/clerk-emulator -json prints) on listener address 127.0.0.1:0.
func emulatorEnv(clerk *clerktest.Server) map[string]string {
	return map[string]string{"CLERK_SECRET_KEY": clerk.SecretKey, "CLERK_API_URL": clerk.URL,
		"CLERK_PUBLISHABLE_KEY": clerk.PublishableKey, "ADDR": "127.0.0.1:0"}
}

// TestRefusals is the example server's answer to each credential an MCP
// client may present, configured as against a standalone emulator: status,
// WWW-Authenticate, and the Clerk calls it cost. The table is logged.
func TestRefusals(t *testing.T) {
	clock := clerktest.NewClock(time.Now())
	clerk := clerktest.NewServer(clerktest.WithClock(clock.Now))
	defer clerk.Close()
	base, _ := demotest.Start(t, run, emulatorEnv(clerk))
	resource := base + "/mcp"
	rm := `resource_metadata="` + base + `/.well-known/oauth-protected-resource/mcp"`
	app := clerk.CreateOAuthApplication("agent")
	machine := clerk.CreateMachine("agent-machine")

	mint := func(format clerkapi.TokenFormat, aud []string, scopes ...string) func(*testing.T) string {
		return func(t *testing.T) string {
			tok, err := clerk.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: demoUser, ClientID: app.ClientID,
				Scopes: scopes, Format: format, Audience: aud})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	// expired mints a token an hour and a minute before the emulator's
	// (and the verifier's) now, with a lifetime of one hour.
	expired := func(format clerkapi.TokenFormat) func(*testing.T) string {
		return func(t *testing.T) string {
			now := clock.Now()
			clock.Set(now.Add(-61 * time.Minute))
			defer clock.Set(now)
			return mint(format, []string{resource}, "mcp")(t)
		}
	}
	revoked := func(t *testing.T) string {
		tok := mint(clerkapi.FormatOpaque, nil, "mcp")(t)
		if err := clerk.RevokeOAuthAccessToken(tok); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	m2m := func(t *testing.T) string {
		tok, err := clerk.CreateToken(machine.ID, clerkapi.CreateParams{})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	fixed := func(s string) func(*testing.T) string { return func(*testing.T) string { return s } }
	calls := func() int64 {
		return clerk.Calls(clerktest.EndpointOAuthVerify) + clerk.Calls(clerktest.EndpointVerify) + clerk.Calls(clerktest.EndpointAPIKeyVerify)
	}
	const (
		invalid = `Bearer realm="api", error="invalid_token", error_description="`
		gone    = invalid + `OAuth access token unknown, revoked or expired", RM, scope="mcp"`
	)

	var table []string
	for _, tc := range []struct {
		name   string
		token  func(*testing.T) string // "" for no Authorization header
		status int
		www    string // RM stands for resource_metadata="…"
		verify int64
	}{
		{"valid opaque (oat_…)", mint(clerkapi.FormatOpaque, nil, "mcp"), 200, "", 1},
		{"valid JWT, aud this server", mint(clerkapi.FormatJWT, []string{resource}, "mcp"), 200, "", 0},
		{"expired opaque", expired(clerkapi.FormatOpaque), 401, gone, 1},
		{"expired JWT", expired(clerkapi.FormatJWT), 401, invalid + `token expired", RM, scope="mcp"`, 0},
		{"revoked opaque", revoked, 401, gone, 1},
		{"missing scope mcp", mint(clerkapi.FormatOpaque, nil, "read"), 403,
			`Bearer realm="api", error="insufficient_scope", error_description="token lacks a scope this service requires", scope="mcp", RM`, 1},
		{"wrong kind (M2M token)", m2m, 401, invalid + `token of a kind this service does not accept", RM, scope="mcp"`, 0},
		{"wrong aud (JWT for another resource)", mint(clerkapi.FormatJWT, []string{"https://other.example.com/mcp"}, "mcp"), 401,
			invalid + `token issued for another resource", RM, scope="mcp"`, 0},
		{"junk", fixed("junk"), 401, invalid + `not a Clerk machine credential (mt_..., ak_..., oat_... or a JWT)", RM, scope="mcp"`, 0},
		{"none", fixed(""), 401, `Bearer realm="api", RM, scope="mcp"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth := tc.token(t)
			if auth != "" {
				auth = "Bearer " + auth
			}
			before := calls()
			res, body := post(t, resource, auth)
			spent := calls() - before
			www := res.Header.Get("WWW-Authenticate")
			if want := strings.ReplaceAll(tc.www, "RM", rm); res.StatusCode != tc.status || www != want {
				t.Errorf("got %d %q %s, want %d %q", res.StatusCode, www, body, tc.status, want)
			}
			if tc.status != 200 {
				var b middleware.ErrorBody
				if err := json.Unmarshal([]byte(body), &b); err != nil || b.Error == "" {
					t.Errorf("got body %s, want a JSON error", body)
				}
			}
			if spent != tc.verify {
				t.Errorf("got %d verify calls, want %d", spent, tc.verify)
			}
			table = append(table, fmt.Sprintf("| %s | %d | `%s` | %d |", tc.name, res.StatusCode, strings.ReplaceAll(www, rm, "resource_metadata=…"), spent))
		})
	}
	t.Logf("examples/mcp, POST /mcp (initialize):\n| token | status | WWW-Authenticate | Clerk verify calls |\n| --- | --- | --- | --- |\n%s",
		strings.Join(table, "\n"))
}

// TestAcceptM2M: MCP_ACCEPT_M2M=1 with M2M_AUDIENCE lets a machine's token
// scoped to this server in; without an audience (a Clerk secret key) the
// example refuses to start.
func TestAcceptM2M(t *testing.T) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	receiver := clerk.CreateMachine("mcp-server")
	agent := clerk.CreateMachine("agent", receiver.ID)
	env := emulatorEnv(clerk)
	env["MCP_ACCEPT_M2M"] = "1"
	if err := run(context.Background(), func(k string) string { return env[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), "WithAudience") {
		t.Fatalf("without M2M_AUDIENCE: got %v, want the audience asked for", err)
	}
	env["M2M_AUDIENCE"] = receiver.ID
	base, _ := demotest.Start(t, run, env)
	tok, err := clerk.CreateToken(agent.ID, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	if res, body := post(t, base+"/mcp", "Bearer "+tok.Token); res.StatusCode != 200 {
		t.Errorf("M2M token scoped to the server: got %d %s, want 200", res.StatusCode, body)
	}
}

// TestRunEmbeddedAcceptM2M: with MCP_ACCEPT_M2M=1 on the embedded emulator,
// the printed M2M token (the demo's caller, scoped to the server's machine)
// is let in.
func TestRunEmbeddedAcceptM2M(t *testing.T) {
	base, printed := demotest.Start(t, run, map[string]string{"ADDR": "127.0.0.1:0", "MCP_ACCEPT_M2M": "1"})
	m := regexp.MustCompile(`curl -H 'Authorization: Bearer (mt_\S+)'`).FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("got output\n%s\nwant a curl line with the M2M token", printed)
	}
	if res, body := post(t, base+"/mcp", "Bearer "+m[1]); res.StatusCode != 200 {
		t.Errorf("the printed M2M token: got %d %s, want 200", res.StatusCode, body)
	}
}

// TestRunRefusesConfig: configurations the example refuses before serving.
func TestRunRefusesConfig(t *testing.T) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	for _, tc := range []struct {
		name    string
		edit    func(env map[string]string)
		wantErr string
	}{
		{"no publishable key", func(env map[string]string) { delete(env, "CLERK_PUBLISHABLE_KEY") }, "CLERK_PUBLISHABLE_KEY"},
		{"plain http resource off loopback", func(env map[string]string) { env["MCP_RESOURCE_URL"] = "http://mcp.example.com/mcp" }, "must be https"},
		{"not a publishable key", func(env map[string]string) { env["CLERK_PUBLISHABLE_KEY"] = clerk.SecretKey }, "not a Clerk publishable key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := emulatorEnv(clerk)
			tc.edit(env)
			err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error about %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), clerk.SecretKey) {
				t.Error("the error shows the secret key")
			}
		})
	}
}
