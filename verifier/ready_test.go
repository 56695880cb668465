package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestReady: what a readiness probe learns, and what it costs Clerk.
func TestReady(t *testing.T) {
	refusedSK := "sk_test_" + fmt.Sprintf("%040d", 0)
	for _, tc := range []struct {
		name      string
		key       func(e *env) string
		fault     clerktest.Fault // on GET /jwks
		want      error           // nil: ready
		wantJWKS  int64           // calls to GET /jwks by the probe
		wantOther int64           // calls to any other endpoint
	}{
		{"secret key", secretKey, nil, nil, 1, 0},
		{"secret key refused", func(*env) string { return refusedSK }, nil, verifier.ErrMisconfigured, 1, 0},
		{"jwks 503", secretKey, clerktest.FailNext(1, 503), verifier.ErrUnavailable, 1, 0},
		{"jwks dropped", secretKey, clerktest.Drop(), verifier.ErrUnavailable, 1, 0},
		{"machine key: no call", func(e *env) string { return e.callee.SecretKey }, nil, nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v := e.verifierWithKey(tc.key(e))
			if tc.fault != nil {
				e.srv.InjectOn(clerktest.EndpointJWKS, tc.fault)
			}
			for i := range 3 { // probes every second within ReadyTTL: one call
				if err := v.Ready(context.Background()); !matches(err, tc.want) {
					t.Fatalf("Ready #%d: got %v, want %v", i, err, tc.want)
				}
				e.clk.Advance(time.Second)
			}
			if got := e.srv.Calls(clerktest.EndpointJWKS); got != tc.wantJWKS {
				t.Errorf("got %d calls to GET /jwks, want %d", got, tc.wantJWKS)
			}
			if got := e.verifyCalls() + e.srv.Calls(clerktest.EndpointList); got != tc.wantOther {
				t.Errorf("got %d other calls, want %d", got, tc.wantOther)
			}
		})
	}
}

func matches(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

// TestReadyCache: the probe is remembered for ReadyTTL on the Verifier's
// clock, then asked again: a failure heals once Clerk answers.
func TestReadyCache(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	e.srv.InjectOn(clerktest.EndpointJWKS, clerktest.FailNext(1, 503))
	if err := v.Ready(context.Background()); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	e.clk.Advance(verifier.ReadyTTL - time.Nanosecond)
	if err := v.Ready(context.Background()); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("just before ReadyTTL: got %v, want the remembered ErrUnavailable", err)
	}
	e.clk.Advance(time.Nanosecond)
	if err := v.Ready(context.Background()); err != nil {
		t.Fatalf("at ReadyTTL: got %v, want nil (asked again, Clerk answers)", err)
	}
	if got := e.srv.Calls(clerktest.EndpointJWKS); got != 2 {
		t.Errorf("got %d calls to GET /jwks, want 2", got)
	}
	if st := v.Stats(); st.JWKSFetches != 2 {
		t.Errorf("got JWKSFetches %d, want 2", st.JWKSFetches)
	}
}

// TestReadyUnreachable: Clerk refuses connections: ErrUnavailable.
func TestReadyUnreachable(t *testing.T) {
	e := newEnv(t)
	url := e.srv.URL
	e.srv.Close()
	v, err := verifier.New(e.srv.SecretKey, verifier.WithBaseURL(url))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Ready(context.Background()); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
}

// TestReadyMachineKeyRefused: with a machine key, Ready reports the refusal
// that Clerk's last verify answer showed, until Clerk gives a verdict again.
func TestReadyMachineKeyRefused(t *testing.T) {
	e := newEnv(t)
	v := e.verifierWithKey(e.callee.SecretKey)
	tok := e.token(clerkapi.CreateParams{})
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1, 401))
	if _, err := v.Verify(context.Background(), tok, ""); err == nil {
		t.Fatal("Verify: got no error with Clerk's 401, want one")
	}
	err := v.Ready(context.Background())
	var me *verifier.MisconfiguredError
	if !errors.As(err, &me) {
		t.Fatalf("after a refused verify: got %v, want a *MisconfiguredError", err)
	}
	if _, err := v.Verify(context.Background(), tok, ""); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := v.Ready(context.Background()); err != nil {
		t.Errorf("after a verdict: got %v, want nil", err)
	}
}

// TestReadyClosed: a closed Verifier is not ready, without a call.
func TestReadyClosed(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	v.Close()
	if err := v.Ready(context.Background()); !errors.Is(err, verifier.ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.verifier().Ready(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: got %v, want context.Canceled", err)
	}
	if got := e.srv.Calls(clerktest.EndpointJWKS); got != 0 {
		t.Errorf("got %d calls to GET /jwks, want 0", got)
	}
}
