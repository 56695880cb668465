package clerktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

func TestFailNext(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := testkit.NewFixture(t)
			ctx := context.Background()
			tok := testkit.MustCreate(t, f.Srv, f.Caller.ID, clerkapi.CreateParams{})
			f.Srv.Inject(clerktest.FailNext(2, status))
			for i := range 2 {
				_, err := f.AsRecv.VerifyToken(ctx, tok.Token)
				var ae *clerkapi.APIError
				if !errors.As(err, &ae) || ae.StatusCode != status || len(ae.Errors) != 1 || ae.TraceID == "" {
					t.Fatalf("call %d: got %v, want %d with a Clerk error body", i+1, err, status)
				}
			}
			if _, err := f.AsRecv.VerifyToken(ctx, tok.Token); err != nil {
				t.Errorf("call 3: got %v, want success once the failures are used up", err)
			}
			if got := f.Srv.Calls(clerktest.EndpointVerify); got != 3 {
				t.Errorf("got %d verify calls, want 3 (faulted ones included)", got)
			}
		})
	}
}

func TestRateLimited(t *testing.T) {
	f := testkit.NewFixture(t)
	f.Srv.Inject(clerktest.RateLimited(1500 * time.Millisecond))
	_, err := f.Admin.JWKS(context.Background())
	var ae *clerkapi.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != 2*time.Second || !ae.HasCode(clerkapi.CodeTooManyRequests) {
		t.Fatalf("got %v, want 429 too_many_requests with Retry-After 2s (1.5s rounded up)", err)
	}
	f.Srv.ClearFaults()
	if _, err := f.Admin.JWKS(context.Background()); err != nil {
		t.Errorf("after ClearFaults: got %v, want success", err)
	}
}

func TestRateLimitUsesServerClock(t *testing.T) {
	f := testkit.NewFixture(t)
	ctx := context.Background()
	f.Srv.Inject(clerktest.RateLimit(2, 10*time.Second))
	call := func() error { _, err := f.Admin.JWKS(ctx); return err }
	for _, step := range []struct {
		name        string
		advance     time.Duration
		wantRetryIn time.Duration // 0: success
	}{
		{"first", 0, 0},
		{"second, 4s later", 4 * time.Second, 0},
		{"third, over the limit", 0, 6 * time.Second},
		{"5s on, still limited", 5 * time.Second, time.Second},
		{"10s after the first", 1 * time.Second, 0},
		{"again limited by the second", 0, 4 * time.Second},
		{"window passed", 4 * time.Second, 0},
	} {
		f.Clock.Advance(step.advance)
		err := call()
		if step.wantRetryIn == 0 {
			if err != nil {
				t.Fatalf("%s: got %v, want success", step.name, err)
			}
			continue
		}
		var ae *clerkapi.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.RetryAfter != step.wantRetryIn {
			t.Fatalf("%s: got %v, want 429 with Retry-After %v", step.name, err, step.wantRetryIn)
		}
	}
}

func TestInjectOnOneEndpoint(t *testing.T) {
	f := testkit.NewFixture(t)
	ctx := context.Background()
	tok := testkit.MustCreate(t, f.Srv, f.Caller.ID, clerkapi.CreateParams{})
	f.Srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(time.Second))
	if _, err := f.AsRecv.VerifyToken(ctx, tok.Token); statusOf(err) != 429 {
		t.Errorf("verify: got %v, want 429", err)
	}
	if _, err := f.Admin.JWKS(ctx); err != nil {
		t.Errorf("jwks: got %v, want success (fault is on verify only)", err)
	}
	// The endpoint's fault applies first; when it lets the request through,
	// the global one still applies.
	f.Srv.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1, 502))
	f.Srv.Inject(clerktest.FailNext(1, 503))
	for _, want := range []int{502, 503, 0} {
		_, err := f.AsRecv.VerifyToken(ctx, tok.Token)
		if got := statusOf(err); got != want {
			t.Errorf("got status %d (%v), want %d", got, err, want)
		}
	}
	f.Srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(time.Second))
	f.Srv.InjectOn(clerktest.EndpointVerify, nil)
	if _, err := f.AsRecv.VerifyToken(ctx, tok.Token); err != nil {
		t.Errorf("after InjectOn(nil): got %v, want success", err)
	}
	f.Srv.Inject(clerktest.RateLimited(time.Second))
	f.Srv.Inject(nil)
	if _, err := f.AsRecv.VerifyToken(ctx, tok.Token); err != nil {
		t.Errorf("after Inject(nil): got %v, want success", err)
	}
}

// TestLatency checks the lower bound only: an answer comes no sooner than the
// latency. A client giving up is TestHeldRequestEndsWhenClientGivesUp's.
func TestLatency(t *testing.T) {
	f := testkit.NewFixture(t)
	f.Srv.Inject(clerktest.Latency(80 * time.Millisecond))
	start := time.Now()
	if _, err := f.Admin.JWKS(context.Background()); err != nil {
		t.Fatalf("got %v, want success after the delay", err)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("got an answer after %v, want at least 80ms", d)
	}
}

// TestHangUntilClose checks that Close ends requests that hang (and returns);
// a client giving up is TestHeldRequestEndsWhenClientGivesUp's.
func TestHangUntilClose(t *testing.T) {
	srv := clerktest.NewServer()
	hang := clerktest.Hang()
	srv.Inject(hang)
	api := testkit.NewClient(t, srv, srv.SecretKey)
	errc := make(chan error, 3)
	for range 3 {
		go func() { _, err := api.JWKS(context.Background()); errc <- err }()
	}
	await(t, hang.Arrived(3), "three hanging requests")
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	await(t, closed, "Close to return while requests hung")
	for range 3 {
		if err := <-errc; err == nil {
			t.Error("got a hanging request answered, want an error")
		}
	}
	srv.Close() // twice is fine
}

func TestMalformed(t *testing.T) {
	f := testkit.NewFixture(t)
	f.Srv.Inject(clerktest.Malformed())
	if _, err := f.Admin.JWKS(context.Background()); !errors.Is(err, clerkapi.ErrMalformedResponse) {
		t.Errorf("got %v, want ErrMalformedResponse", err)
	}
}

func TestOversized(t *testing.T) {
	for _, n := range []int64{0, 5, 10, 100_000} {
		f := testkit.NewFixture(t)
		f.Srv.Inject(clerktest.Oversized(n))
		req, _ := http.NewRequest("GET", f.Srv.URL+"/jwks", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || int64(len(b)) != n || resp.StatusCode != 200 {
			t.Errorf("Oversized(%d): got status %d and %d bytes (%v), want 200 and %d bytes", n, resp.StatusCode, len(b), err, n)
		}
		if n >= 10 && !json.Valid(b) {
			t.Errorf("Oversized(%d): got invalid JSON %.40q, want padded JSON", n, b)
		}
	}
}

func TestDrop(t *testing.T) {
	f := testkit.NewFixture(t)
	f.Srv.Inject(clerktest.Drop())
	_, err := f.Admin.JWKS(context.Background())
	if err == nil || statusOf(err) != 0 {
		t.Fatalf("got %v, want a transport error without an answer", err)
	}
	if got := f.Srv.Calls(clerktest.EndpointJWKS); got < 1 {
		t.Errorf("got %d calls, want the dropped request counted", got)
	}
}

func TestCalls(t *testing.T) {
	f := testkit.NewFixture(t)
	ctx := context.Background()
	tok := testkit.MustCreate(t, f.Srv, f.Caller.ID, clerkapi.CreateParams{}) // set-up: not counted
	f.Srv.CreateMachine("not counted")
	if _, err := f.AsCaller.CreateToken(ctx, clerkapi.CreateParams{}); err != nil {
		t.Fatal(err)
	}
	f.AsRecv.VerifyToken(ctx, tok.Token)
	f.AsRecv.VerifyToken(ctx, "mt_unknown")
	f.Admin.ListTokens(ctx, clerkapi.ListParams{Subject: f.Caller.ID})
	f.Admin.RevokeToken(ctx, tok.ID, "")
	f.Admin.JWKS(ctx)
	for _, p := range []string{"/machines", "/machines/" + f.Caller.ID, "/users", "/jwks/x"} {
		testkit.SendRaw(t, http.DefaultClient, f.Srv.URL, testkit.RawCase{Name: p, Key: f.Srv.SecretKey, Method: "GET", Path: p})
	}
	testkit.SendRaw(t, http.DefaultClient, f.Srv.URL, testkit.RawCase{Name: "405", Key: f.Srv.SecretKey, Method: "PUT", Path: "/jwks"})
	want := map[clerktest.Endpoint]int64{
		clerktest.EndpointCreate: 1, clerktest.EndpointVerify: 2, clerktest.EndpointList: 1,
		clerktest.EndpointRevoke: 1, clerktest.EndpointJWKS: 1, clerktest.EndpointMachines: 2,
	}
	for _, e := range clerktest.Endpoints {
		if got := f.Srv.Calls(e); got != want[e] {
			t.Errorf("Calls(%q): got %d, want %d", e, got, want[e])
		}
	}
	if got := f.Srv.Calls("nope"); got != 0 {
		t.Errorf("Calls(unknown endpoint): got %d, want 0", got)
	}
	f.Srv.ResetCalls()
	for _, e := range clerktest.Endpoints {
		if got := f.Srv.Calls(e); got != 0 {
			t.Errorf("after ResetCalls, Calls(%q): got %d, want 0", e, got)
		}
	}
}

func TestFaultBeforeAuth(t *testing.T) {
	f := testkit.NewFixture(t)
	f.Srv.Inject(clerktest.FailNext(1, 503))
	bad := testkit.NewClient(t, f.Srv, "sk_test_wrong")
	if _, err := bad.JWKS(context.Background()); statusOf(err) != 503 {
		t.Errorf("got %v, want the fault's 503 before the key is checked", err)
	}
	if _, err := bad.JWKS(context.Background()); statusOf(err) != 401 || !strings.Contains(err.Error(), "unauthorized") {
		t.Errorf("got %v, want 401 unauthorized", err)
	}
}
