package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// startJSON runs the emulator with -json and args on a free loopback port
// and returns its start-up line, decoded; it stops at the end of t.
func startJSON(t *testing.T, args ...string) startup {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-json"}, args...), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: got %v, want nil after cancel", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	var info startup
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		t.Fatalf("first line %q is not the start-up JSON: %v", line, err)
	}
	return info
}

// originOf derives the Frontend API origin from a publishable key as Clerk's
// SDKs do (base64 of "host$" after pk_test_ or pk_live_), with http:// for a
// loopback host.
func originOf(t *testing.T, pk string) string {
	t.Helper()
	enc := strings.TrimPrefix(strings.TrimPrefix(pk, "pk_test_"), "pk_live_")
	dec, err := base64.RawStdEncoding.DecodeString(enc)
	host, ok := strings.CutSuffix(string(dec), "$")
	if err != nil || !ok {
		t.Fatalf("publishable key %q: %q, %v", pk, dec, err)
	}
	h, _, err := net.SplitHostPort(host)
	if ip := net.ParseIP(h); err != nil || ip == nil || !ip.IsLoopback() {
		t.Fatalf("publishable key %q encodes %q, want a loopback host:port", pk, host)
	}
	return "http://" + host
}

// TestStandaloneAuthorizationServer: the origin the printed publishable key
// encodes serves the OAuth authorization server, and an MCP-style client
// runs the whole flow against it with net/http: metadata → registration →
// authorize → token → refresh; the access token verifies with the printed
// secret key.
func TestStandaloneAuthorizationServer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		user   string
		opaque bool
	}{
		{"defaults", nil, "user_2EmulatorOAuthTestUser00000", false},
		{"opaque, another user", []string{"-oauth-token-format", "opaque", "-oauth-user", "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"}, "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := startJSON(t, tc.args...)
			origin := originOf(t, info.PublishableKey)
			if origin != info.AuthorizationServer || info.OAuthUserID != tc.user || origin+"/v1" != info.BaseURL {
				t.Fatalf("got authorization_server %q, oauth_user_id %q, base_url %q; want %s, %s, %s/v1",
					info.AuthorizationServer, info.OAuthUserID, info.BaseURL, origin, tc.user, origin)
			}
			hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			defer hc.CloseIdleConnections()
			call := func(method, u, contentType, body string) (int, http.Header, map[string]any) {
				t.Helper()
				req, err := http.NewRequest(method, u, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if contentType != "" {
					req.Header.Set("Content-Type", contentType)
				}
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var m map[string]any
				b, _ := io.ReadAll(resp.Body)
				json.Unmarshal(b, &m)
				return resp.StatusCode, resp.Header, m
			}

			status, _, md := call("GET", origin+"/.well-known/oauth-authorization-server", "", "")
			if status != 200 || md["issuer"] != origin {
				t.Fatalf("metadata at the key's origin: got %d %v, want 200 with issuer %s", status, md, origin)
			}
			status, _, reg := call("POST", md["registration_endpoint"].(string), "application/json",
				`{"client_name":"mcp client","redirect_uris":["http://127.0.0.1:9/callback"],"token_endpoint_auth_method":"none"}`)
			clientID, _ := reg["client_id"].(string)
			if status != 201 || clientID == "" {
				t.Fatalf("register: got %d %v", status, reg)
			}
			verifier := strings.Repeat("x", 50)
			sum := sha256.Sum256([]byte(verifier))
			q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {"http://127.0.0.1:9/callback"},
				"scope": {"mcp"}, "state": {"s-1"}, "resource": {"http://127.0.0.1:8080/mcp"},
				"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
			status, hdr, _ := call("GET", md["authorization_endpoint"].(string)+"?"+q.Encode(), "", "")
			loc, _ := url.Parse(hdr.Get("Location"))
			if status != 302 || loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s-1" {
				t.Fatalf("authorize: got %d, Location %q", status, hdr.Get("Location"))
			}
			form := url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {loc.Query().Get("code")},
				"redirect_uri": {"http://127.0.0.1:9/callback"}, "code_verifier": {verifier}}
			status, _, tok := call("POST", md["token_endpoint"].(string), "application/x-www-form-urlencoded", form.Encode())
			access, _ := tok["access_token"].(string)
			if status != 200 || tok["scope"] != "mcp" || strings.HasPrefix(access, "oat_") != tc.opaque {
				t.Fatalf("token: got %d %v, want an access token (opaque: %v) with scope mcp", status, tok, tc.opaque)
			}
			admin, err := clerkapi.New(info.SecretKey, clerkapi.WithBaseURL(info.BaseURL))
			if err != nil {
				t.Fatal(err)
			}
			v, err := admin.VerifyOAuthAccessToken(t.Context(), access)
			if err != nil || v.Subject != tc.user || v.ClientID != clientID || len(v.Scopes) != 1 || v.Scopes[0] != "mcp" {
				t.Fatalf("verify with the printed secret key: got %+v, %v", v, err)
			}
			refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {tok["refresh_token"].(string)}}
			if status, _, r := call("POST", md["token_endpoint"].(string), "application/x-www-form-urlencoded", refresh.Encode()); status != 200 || r["access_token"] == access {
				t.Errorf("refresh: got %d %v", status, r)
			}
		})
	}
}

// TestDocOAuthLinesInShell pastes the OAuth lines of doc.go into sh, with
// curl, against a running emulator: register, authorize, token. Without sh
// or curl it is skipped, unless CI is set.
func TestDocOAuthLinesInShell(t *testing.T) {
	for _, tool := range []string{"sh", "curl", "grep", "cut"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found and CI is set: install it", tool)
			}
			t.Skipf("%s not found; set CI to make this a failure", tool)
		}
	}
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string // the block that starts with ORIGIN=
	for _, l := range strings.Split(string(b), "\n") {
		s, ok := strings.CutPrefix(l, "//\t")
		if ok && (len(lines) > 0 || strings.HasPrefix(s, "ORIGIN=")) {
			lines = append(lines, s)
		} else if len(lines) > 0 {
			break
		}
	}
	if len(lines) != 4 || lines[0] != "ORIGIN=http://127.0.0.1:8787" {
		t.Fatalf("got the lines %q from doc.go, want ORIGIN=http://127.0.0.1:8787 and three curl lines", lines)
	}
	info := startJSON(t)
	lines[0] = "ORIGIN=" + info.AuthorizationServer
	cmd := exec.Command("sh", "-ec", strings.Join(lines, "\n")+"\n")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()} // no proxy, no ~/.curlrc
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh: %v; stderr %q", err, stderr.String())
	}
	var tok map[string]any
	if err := json.Unmarshal(out, &tok); err != nil || tok["token_type"] != "Bearer" || tok["scope"] != "mcp" || tok["access_token"] == nil {
		t.Fatalf("got %q (%v), want the token answer with scope mcp", out, err)
	}
	admin, _ := clerkapi.New(info.SecretKey, clerkapi.WithBaseURL(info.BaseURL))
	if v, err := admin.VerifyOAuthAccessToken(t.Context(), tok["access_token"].(string)); err != nil || v.Subject != info.OAuthUserID {
		t.Errorf("verify the token the doc's lines got: %+v, %v", v, err)
	}
}
