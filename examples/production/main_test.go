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
