// Package demotest runs an example service end to end in a test: it serves
// the example's routes with demo.Run on 127.0.0.1:0 and the embedded
// emulator, reads the printed URL and token, calls the routes over real HTTP
// and stops it.
package demotest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/examples/internal/demo"
)

// Check runs demo.Run with handler and no Clerk key (so it starts the
// emulator), waits until it listens, checks /healthz, /api/whoami and
// /api/reports, then cancels its context and expects a clean return.
func Check(t *testing.T, handler demo.Handler) {
	t.Helper()
	env := map[string]string{"ADDR": "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := demo.Run(ctx, func(k string) string { return env[k] }, pw, handler)
		pw.Close()
		done <- err
	}()

	var baseURL, token string
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	timeout := time.After(20 * time.Second)
	for baseURL == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before the service listened; run returned %v", <-done)
			}
			if i := strings.Index(l, "(role=reporter, 1h): "); i >= 0 {
				token = l[i+len("(role=reporter, 1h): "):]
			}
			if u, ok := strings.CutPrefix(l, "Listening on "); ok {
				baseURL = u
			}
		case <-timeout:
			t.Fatal("the service did not print its address within 20s")
		}
	}
	go func() {
		for range lines { // keep draining
		}
	}()
	if token == "" {
		t.Fatal("no demo token printed before the address")
	}

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	get := func(path, auth string) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, baseURL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatalf("GET %s: decoding body: %v", path, err)
		}
		return res.StatusCode, res.Header, body
	}

	if code, _, body := get("/healthz", ""); code != 200 || body["status"] != "ok" {
		t.Errorf("GET /healthz: got %d %v, want 200 {status: ok}", code, body)
	}
	if code, h, body := get("/api/whoami", ""); code != 401 || h.Get("WWW-Authenticate") == "" || body["error"] != "missing_token" {
		t.Errorf("GET /api/whoami without token: got %d %q %v, want 401 with a challenge", code, h.Get("WWW-Authenticate"), body)
	}
	code, _, who := get("/api/whoami", "Bearer "+token)
	if code != 200 {
		t.Fatalf("GET /api/whoami: got %d %v, want 200", code, who)
	}
	for _, k := range []string{"subject", "scopes", "claims", "token_id", "expires_at"} {
		if who[k] == nil {
			t.Errorf("whoami: got %v, want a non-null %q", who, k)
		}
	}
	if c, _ := who["claims"].(map[string]any); c["role"] != "reporter" {
		t.Errorf("whoami claims: got %v, want role=reporter", who["claims"])
	}
	if s, _ := who["subject"].(string); !strings.HasPrefix(s, "mch_") {
		t.Errorf("whoami subject: got %q, want mch_…", s)
	}
	if b, _ := json.Marshal(who); strings.Contains(string(b), token) {
		t.Error("whoami echoes the token's secret value")
	}
	if code, _, body := get("/api/reports", "Bearer "+token); code != 200 || body["for"] != who["subject"] {
		t.Errorf("GET /api/reports: got %d %v, want 200 for %v", code, body, who["subject"])
	}
	if code, _, body := get("/api/reports", "Bearer mt_00000000000000000000000000000000"); code != 401 || body["error"] != "invalid_token" {
		t.Errorf("GET /api/reports with an unknown token: got %d %v, want 401 invalid_token", code, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return within 15s of cancel")
	}
}
