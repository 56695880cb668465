package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// recorder is an Observer that writes down what it is told, as lines such
// as "miss invalid" or "call verify invalid 404 in-miss".
type recorder struct {
	mu     sync.Mutex
	events []string
}

type inMissKey struct{}

func (r *recorder) StartMiss(ctx context.Context) (context.Context, func(verifier.MissEnd)) {
	return context.WithValue(ctx, inMissKey{}, true), func(e verifier.MissEnd) {
		r.add(fmt.Sprintf("miss %s", e.Outcome))
	}
}

func (r *recorder) StartCall(ctx context.Context, ep verifier.Endpoint) (context.Context, func(verifier.CallEnd)) {
	where := "alone"
	if ctx.Value(inMissKey{}) != nil {
		where = "in-miss" // the miss's context reached the call: a span would nest
	}
	return ctx, func(e verifier.CallEnd) {
		r.add(fmt.Sprintf("call %s %s %d %s", ep, e.Outcome, e.Status, where))
	}
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, s)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	return ev
}

// TestObserver: each miss and each call to Clerk is told, with its outcome
// and status, the call inside its miss's context; a cache hit is not told.
func TestObserver(t *testing.T) {
	for _, tc := range []struct {
		name  string
		key   func(e *env) string
		token func(e *env) string
		fault clerktest.Fault
		want  []string // the events of the first Verify; the second is a hit or told again
		again bool     // the second Verify is a miss too (nothing cached)
	}{
		{"valid opaque token", secretKey, opaque, nil,
			[]string{"call verify ok 200 in-miss", "miss ok"}, false},
		{"unknown token", secretKey, func(*env) string { return unknownToken(7) }, nil,
			[]string{"call verify invalid 404 in-miss", "miss invalid"}, false},
		{"clerk 503", secretKey, opaque, clerktest.FailNext(1, 503),
			[]string{"call verify unavailable 503 in-miss", "miss unavailable"}, true},
		{"clerk 429", secretKey, opaque, clerktest.RateLimited(0),
			[]string{"call verify rate_limited 429 in-miss", "miss unavailable"}, true},
		{"key refused", func(*env) string { return "ak_" + fmt.Sprintf("%040d", 0) }, opaque, nil,
			[]string{"call verify misconfigured 401 in-miss", "miss misconfigured"}, true},
		{"local JWT", secretKey, func(e *env) string { return e.token(clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT}) }, nil,
			[]string{"call jwks ok 200 in-miss", "miss ok"}, false},
		{"malformed token", secretKey, func(*env) string { return "mt_" }, nil,
			nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			rec := &recorder{}
			v := e.verifierWithKey(tc.key(e), verifier.WithObserver(rec), verifier.WithLimits(verifier.Limits{MaxBackoff: -1}))
			tok := tc.token(e)
			if tc.fault != nil {
				e.srv.InjectOn(clerktest.EndpointVerify, tc.fault)
			}
			_, _ = v.Verify(context.Background(), tok, "")
			if got := rec.take(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("first Verify: got events %q, want %q", got, tc.want)
			}
			e.srv.ClearFaults()
			_, _ = v.Verify(context.Background(), tok, "")
			got := rec.take()
			switch {
			case !tc.again && len(got) != 0:
				t.Errorf("second Verify (a cache hit): got events %q, want none", got)
			case tc.again && len(got) == 0:
				t.Errorf("second Verify (a miss): got no events, want some")
			}
		})
	}
}

func secretKey(e *env) string { return e.srv.SecretKey }
func opaque(e *env) string    { return e.token(clerkapi.CreateParams{}) }

// TestObserverCanceled: a caller whose context ends while Clerk holds the
// call ends its miss as canceled; the shared call goes on and ends ok.
func TestObserverCanceled(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{}
	v := e.verifier(verifier.WithObserver(rec))
	gate := clerktest.NewGate()
	e.srv.InjectOn(clerktest.EndpointVerify, gate)
	tok := e.token(clerkapi.CreateParams{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := v.Verify(ctx, tok, ""); done <- err }()
	<-gate.Arrived(1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if got, want := rec.take(), []string{"miss canceled"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got events %q, want %q", got, want)
	}
	gate.Release()
	if _, err := v.Verify(context.Background(), tok, ""); err != nil {
		t.Fatal(err)
	}
	// The held call ended ok (its miss had gone), then the token was a hit, or
	// a miss that shared or followed that call.
	got := rec.take()
	if len(got) == 0 || got[0] != "call verify ok 200 in-miss" {
		t.Errorf("got events %q, want the held call first, ok", got)
	}
}

func TestWithObserverNil(t *testing.T) {
	if _, err := verifier.New("sk_test_"+fmt.Sprintf("%040d", 0), verifier.WithObserver(nil)); err == nil {
		t.Error("got no error for a nil Observer, want one")
	}
}
