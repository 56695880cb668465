package verifier_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// closedURL returns the base URL of a loopback port that refuses connections.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1"
}

// logLines returns the lines of a JSON log holding every one of words.
func logLines(out string, words ...string) []string {
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		all := l != ""
		for _, w := range words {
			all = all && strings.Contains(l, w)
		}
		if all {
			got = append(got, l)
		}
	}
	return got
}

// TestOutageLoggedOnceByDefault: without WithLogger, a Clerk that refuses
// connections costs one Warn line through slog.Default() for 100 requests,
// naming the real cause (connection refused, not a timeout), and nothing
// else; no token in it.
func TestOutageLoggedOnceByDefault(t *testing.T) {
	const key = "sk_test_" + "outageLoggedOnceKeyXXXXXXXXXXXXXX"
	v, err := verifier.New(key, verifier.WithBaseURL(closedURL(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	logs := captureDefaultLog(t) // set after New: looked up when a line is written
	var toks []string
	for i := range 100 {
		tok := unknownToken(1000 + i)
		toks = append(toks, tok)
		if _, err := v.Verify(context.Background(), tok, "192.0.2.1"); !errors.Is(err, verifier.ErrUnavailable) {
			t.Fatalf("request %d: got %v, want ErrUnavailable", i, err)
		}
	}
	out := logs.String()
	if n := len(logLines(out)); n != 1 {
		t.Fatalf("got %d log lines, want 1:\n%s", n, out)
	}
	if got := logLines(out, `"level":"WARN"`, "Clerk unavailable", "connection refused"); len(got) != 1 {
		t.Errorf("got %s, want one Warn line naming the refused connection", out)
	}
	assertNoSecrets(t, out, append(toks, key)...)
}

// TestOutageStartAndEnd: the first failure of each outage (no answer, or a
// 5xx) is logged at Warn with its cause, the first answer after it at Warn
// too; the failures in between, and answers while Clerk is well, are not
// logged. A timeout is named as one.
func TestOutageStartAndEnd(t *testing.T) {
	e := newEnv(t)
	logs := captureDefaultLog(t)
	v := e.verifier(verifier.WithDefaultLogger(), verifier.WithLimits(verifier.Limits{BreakerFailures: -1, Timeout: 200 * time.Millisecond}))
	verify := func(i int) error {
		_, err := v.Verify(context.Background(), unknownToken(2000+i), "")
		return err
	}
	if err := verify(0); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatalf("Clerk well: got %v, want ErrInvalidToken", err)
	}
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(3, 503))
	for i := 1; i <= 3; i++ {
		if err := verify(i); !errors.Is(err, verifier.ErrUnavailable) {
			t.Fatalf("503 %d: got %v, want ErrUnavailable", i, err)
		}
	}
	if err := verify(4); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatalf("Clerk back: got %v, want ErrInvalidToken", err)
	}
	gate := clerktest.NewGate()
	t.Cleanup(gate.Release)
	e.srv.InjectOn(clerktest.EndpointVerify, gate) // held until our timeout
	if err := verify(5); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("Clerk silent: got %v, want ErrUnavailable", err)
	}
	gate.Release()
	e.srv.ClearFaults()
	if err := verify(6); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatalf("Clerk back again: got %v, want ErrInvalidToken", err)
	}
	out := logs.String()
	down := logLines(out, `"level":"WARN"`, "Clerk unavailable")
	up := logLines(out, `"level":"WARN"`, "Clerk answering again")
	if len(down) != 2 || len(up) != 2 || len(logLines(out)) != 4 {
		t.Fatalf("got %d outage and %d recovery lines of %d, want 2, 2 of 4:\n%s", len(down), len(up), len(logLines(out)), out)
	}
	if !strings.Contains(down[0], "503") {
		t.Errorf("first outage line %s: want the 503", down[0])
	}
	if !strings.Contains(down[1], "no answer from clerk within 200ms") {
		t.Errorf("second outage line %s: want the timeout named", down[1])
	}
}

// TestReadyMachineKeySeesTransportFailure: with a machine key Ready makes no
// call, but it reports the last call to Clerk that got no answer, for
// readyTTL or until a call gets an answer, not only an open breaker.
func TestReadyMachineKeySeesTransportFailure(t *testing.T) {
	clk := clerktest.NewClock(t0)
	v := newTestVerifier(t, "ak_"+strings.Repeat("m", 40), closedURL(t), verifier.WithClock(clk.Now),
		verifier.WithLogger(discardLogger))
	if err := v.Ready(context.Background()); err != nil {
		t.Fatalf("before any call: got %v, want nil", err)
	}
	if _, err := v.Verify(context.Background(), unknownToken(1), ""); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("Verify: got %v, want ErrUnavailable", err)
	}
	err := v.Ready(context.Background())
	if !errors.Is(err, verifier.ErrUnavailable) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("after a refused connection: got %v, want ErrUnavailable naming it", err)
	}
	if st := v.Stats(); st.BreakerState != "closed" {
		t.Fatalf("breaker %s, want closed: Ready must not wait for it", st.BreakerState)
	}
	clk.Advance(verifier.ReadyTTL)
	if err := v.Ready(context.Background()); err != nil {
		t.Errorf("readyTTL later: got %v, want nil", err)
	}
}

// TestErrorStrings: an error names each layer once ("verifier: clerk
// unavailable: …" and then the cause), whatever refused the call.
func TestErrorStrings(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{BreakerFailures: 1, CallRate: 1, CallBurst: 1}), verifier.WithLogger(discardLogger))
	verify := func(i int) error {
		_, err := v.Verify(context.Background(), unknownToken(3000+i), "")
		return err
	}
	errs := map[string]error{}
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1, 503))
	errs["503"] = verify(0)
	errs["breaker open"] = verify(1)
	e.clk.Advance(time.Minute)
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(5*time.Second))
	errs["429"] = verify(2)
	errs["backing off"] = verify(3)
	e.srv.ClearFaults()
	e.clk.Advance(time.Minute)
	// Spend the overall budget (its shares may let a few more through).
	for i := 4; i < 20; i++ {
		if err := verify(i); errors.Is(err, verifier.ErrUnavailable) {
			errs["overall budget spent"] = err
			break
		}
	}
	if errs["overall budget spent"] == nil {
		t.Fatal("20 misses on a budget of 1 per second on a frozen clock: none refused")
	}
	v.Close()
	errs["closed"] = verify(6)
	for name, err := range errs {
		if !errors.Is(err, verifier.ErrUnavailable) {
			t.Errorf("%s: got %v, want ErrUnavailable", name, err)
			continue
		}
		if s := err.Error(); strings.Count(s, "verifier:") != 1 || strings.Count(s, "clerk unavailable") != 1 {
			t.Errorf("%s: %q names a layer twice", name, s)
		}
	}
	for name, want := range map[string]string{"breaker open": "breaker open", "backing off": "429", "overall budget spent": "too many calls", "closed": "after Close"} {
		if s := errs[name].Error(); !strings.Contains(s, want) {
			t.Errorf("%s: %q, want it to say %q", name, s, want)
		}
	}
}
