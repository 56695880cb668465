package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/examples/internal/demotest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun serves the example on 127.0.0.1:0 and calls its routes: with the
// embedded emulator, with a Clerk secret key, with a machine key, and
// configurations it must refuse; then /readyz and /metrics.
func TestRun(t *testing.T) { demotest.Check(t, run) }

// A call budget that does not parse stops the example before it serves.
func TestRunBadCallBudget(t *testing.T) {
	for _, kv := range [][2]string{{"M2M_CALL_RATE", "fast"}, {"M2M_CALL_RATE", "-1"}, {"M2M_CALL_BURST", "1.5"}} {
		env := map[string]string{"ADDR": "127.0.0.1:0", kv[0]: kv[1]}
		err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("%s=%s: got %v, want it refused", kv[0], kv[1], err)
		}
	}
}

// A REDIS_URL that does not parse stops the example before it serves.
func TestRunBadRedisURL(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:0", "REDIS_URL": "http://127.0.0.1:6379/0"}
	err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "Redis URL") {
		t.Fatalf("got %v, want the Redis URL refused", err)
	}
}

// TestDebugAddr: DEBUG_ADDR serves pprof and the invalidation endpoint on a
// listener of its own (printed among the curl lines), and neither on the
// service's address; an invalidated token that Clerk revoked is refused on
// the next request instead of at the end of its cache TTL.
func TestDebugAddr(t *testing.T) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	receiver := clerk.CreateMachine("reports-service")
	caller := clerk.CreateMachine("billing-worker", receiver.ID)
	tok, err := clerk.CreateToken(caller.ID, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	base, printed := demotest.Start(t, run, map[string]string{
		"CLERK_SECRET_KEY": clerk.SecretKey, "CLERK_API_URL": clerk.URL, "M2M_AUDIENCE": receiver.ID,
		"ADDR": "127.0.0.1:0", "DEBUG_ADDR": "127.0.0.1:0",
	})
	m := regexp.MustCompile(`curl -X POST '(http://[^/]+)/debug/m2mauth/invalidate\?id=mt_…'`).FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("got output\n%s\nwant the invalidation curl line", printed)
	}
	debug := m[1]
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	do := func(method, url, token string) int {
		t.Helper()
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}

	for _, step := range []struct {
		name        string
		method, url string
		token       string
		before      func()
		wantStatus  int
	}{
		{"pprof on DEBUG_ADDR", "GET", debug + "/debug/pprof/", "", nil, 200},
		{"no pprof on ADDR", "GET", base + "/debug/pprof/", "", nil, 404},
		{"no invalidation on ADDR", "POST", base + "/debug/m2mauth/invalidate?id=" + tok.ID, "", nil, 404},
		{"invalidation wants a token ID", "POST", debug + "/debug/m2mauth/invalidate?id=" + tok.Token, "", nil, 400},
		{"invalidation is a POST", "GET", debug + "/debug/m2mauth/invalidate?id=" + tok.ID, "", nil, 405},
		{"the token works", "GET", base + "/api/whoami", tok.Token, nil, 200},
		{"revoked at Clerk, still cached", "GET", base + "/api/whoami", tok.Token, func() {
			if err := clerk.RevokeToken(tok.ID, "test"); err != nil {
				t.Fatal(err)
			}
		}, 200},
		{"invalidate it", "POST", debug + "/debug/m2mauth/invalidate?id=" + tok.ID, "", nil, 204},
		{"refused at once", "GET", base + "/api/whoami", tok.Token, nil, 401},
	} {
		if step.before != nil {
			step.before()
		}
		if got := do(step.method, step.url, step.token); got != step.wantStatus {
			t.Errorf("%s: %s %s: got %d, want %d", step.name, step.method, strings.Replace(step.url, tok.Token, "<token>", 1), got, step.wantStatus)
		}
	}
}

// TestExports: GET /api/exports takes API keys with the scope exports:read,
// and nothing else: an M2M token is refused without a call to Clerk, a key
// without the scope gets 403 naming it. With a machine key the route is not
// served (a machine key cannot verify API keys).
func TestExports(t *testing.T) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	receiver := clerk.CreateMachine("reports-service")
	caller := clerk.CreateMachine("billing-worker", receiver.ID)
	m2m, err := clerk.CreateToken(caller.ID, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	key := func(scopes ...string) string {
		k, err := clerk.CreateAPIKey(clerktest.APIKeyParams{Name: "nightly export", Subject: "org_2xhFjEI5X2qWRvtV13BzSj8H6Dk", Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		return k.Secret
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	get := func(url, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("WWW-Authenticate") + " " + string(b)
	}
	base, _ := demotest.Start(t, run, map[string]string{"CLERK_SECRET_KEY": clerk.SecretKey, "CLERK_API_URL": clerk.URL,
		"M2M_AUDIENCE": receiver.ID, "ADDR": "127.0.0.1:0"})
	for _, tc := range []struct {
		name, token string
		status      int
		says        string
	}{
		{"API key with the scope", key("exports:read"), 200, `"key":"nightly export"`},
		{"API key without it", key("exports:list"), 403, `scope="exports:read"`},
		{"M2M token", m2m.Token, 401, "kind this service does not accept"},
	} {
		status, body := get(base+"/api/exports", tc.token)
		if status != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s: got %d %s, want %d and %q", tc.name, status, body, tc.status, tc.says)
		}
	}
	if n := clerk.Calls(clerktest.EndpointVerify); n != 0 {
		t.Errorf("got %d M2M verify calls, want 0 (the M2M token refused by its kind)", n)
	}
	machine, _ := demotest.Start(t, run, map[string]string{"CLERK_MACHINE_SECRET_KEY": receiver.SecretKey, "CLERK_API_URL": clerk.URL,
		"ADDR": "127.0.0.1:0"})
	if status, _ := get(machine+"/api/exports", key("exports:read")); status != http.StatusNotFound {
		t.Errorf("machine key: got %d, want 404 (no route)", status)
	}
}
