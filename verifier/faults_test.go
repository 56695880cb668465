package verifier_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestFaults: every fault the emulator injects maps to ErrUnavailable, none is
// cached, and the same token verifies once the fault is cleared.
func TestFaults(t *testing.T) {
	const timeout = 150 * time.Millisecond
	for _, tc := range []struct {
		name           string
		fault          clerktest.Fault
		wantRetryAfter time.Duration
		wantStatus     int   // of the *clerkapi.APIError reachable with errors.As; 0: none
		wantCalls      int64 // requests the Verifier sends (UpstreamCalls), each seen by the emulator…
		// …unless noAnswer: the Verifier gives up at its timeout, which may
		// come before its request reaches the emulator (then it sees fewer).
		noAnswer bool
	}{
		{"500", clerktest.FailNext(5, 500), 0, 500, 1, false},
		{"502", clerktest.FailNext(5, 502), 0, 502, 1, false},
		{"503", clerktest.FailNext(5, 503), 0, 503, 1, false},
		{"429 with Retry-After", clerktest.RateLimited(7 * time.Second), 7 * time.Second, 429, 1, false},
		{"rate limit window", clerktest.RateLimit(0, time.Minute), 0, 429, 1, false},
		// The answer leaves the emulator 3 timeouts after the request
		// arrived, so always after the Verifier's deadline: a bound, not a race.
		{"latency over the timeout", clerktest.Latency(3 * timeout), 0, 0, 1, true},
		{"hang", clerktest.Hang(), 0, 0, 1, true},
		{"dropped connection (retried once)", clerktest.Drop(), 0, 0, 2, false},
		{"malformed body", clerktest.Malformed(), 0, 0, 1, false},
		{"oversized body", clerktest.Oversized(4 << 20), 0, 0, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v := e.verifier(verifier.WithLimits(verifier.Limits{Timeout: timeout}))
			tok := e.token(clerkapi.CreateParams{})
			e.srv.InjectOn(clerktest.EndpointVerify, tc.fault)

			_, err := v.Verify(context.Background(), tok, "")
			if !errors.Is(err, verifier.ErrUnavailable) {
				t.Fatalf("got error %v, want ErrUnavailable", err)
			}
			if errors.Is(err, verifier.ErrInvalidToken) || errors.Is(err, verifier.ErrMisconfigured) {
				t.Errorf("error %v matches another kind too", err)
			}
			if tc.wantRetryAfter != 0 {
				if got := verifier.RetryAfter(err); got != tc.wantRetryAfter {
					t.Errorf("got Retry-After %v, want %v", got, tc.wantRetryAfter)
				}
			}
			var ae *clerkapi.APIError
			if got := errors.As(err, &ae); got != (tc.wantStatus != 0) || (got && ae.StatusCode != tc.wantStatus) {
				t.Errorf("errors.As(*clerkapi.APIError) = %v (%v), want status %d", got, ae, tc.wantStatus)
			}
			if got := v.Stats().UpstreamCalls; got != uint64(tc.wantCalls) {
				t.Errorf("got %d upstream calls, want %d", got, tc.wantCalls)
			}
			if got := e.verifyCalls(); got != tc.wantCalls && !(tc.noAnswer && got < tc.wantCalls) {
				t.Errorf("got %d verify calls at the emulator, want %d", got, tc.wantCalls)
			}
			if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), e.srv.SecretKey) {
				t.Errorf("error %q contains the token or the key", err)
			}

			e.srv.ClearFaults()
			wantUnavailable := uint64(1)
			if ra := verifier.RetryAfter(err); ra > 0 {
				// Clerk asked us to wait: until then the token is refused
				// without a call, then verified.
				wantUnavailable = 2
				if _, err := v.Verify(context.Background(), tok, ""); !errors.Is(err, verifier.ErrBackoff) {
					t.Errorf("Verify within Retry-After: got %v, want ErrBackoff", err)
				}
				if got := e.verifyCalls(); got != tc.wantCalls {
					t.Errorf("got %d verify calls within Retry-After, want still %d", got, tc.wantCalls)
				}
				e.clk.Advance(ra)
			}
			if _, err := v.Verify(context.Background(), tok, ""); err != nil {
				t.Errorf("Verify after ClearFaults: %v, want the token (failures are never cached)", err)
			}
			if st := v.Stats(); st.Unavailable != wantUnavailable || st.NegativeHits != 0 {
				t.Errorf("got %d unavailable and %d negative hits, want %d and 0", st.Unavailable, st.NegativeHits, wantUnavailable)
			}
		})
	}
}

// TestFailNextOnce: one 503 answer is not retried (only connection failures
// are); the next Verify succeeds.
func TestFailNextOnce(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	tok := e.token(clerkapi.CreateParams{})
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1, 503))
	if _, err := v.Verify(context.Background(), tok, ""); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	if _, err := v.Verify(context.Background(), tok, ""); err != nil {
		t.Fatalf("second Verify: %v", err)
	}
	if got := e.verifyCalls(); got != 2 {
		t.Errorf("got %d verify calls, want 2 (no retry after a 503)", got)
	}
}

// TestConnectionRefused: nothing listens; one quick retry, then ErrUnavailable.
func TestConnectionRefused(t *testing.T) {
	e := newEnv(t)
	url := e.srv.URL
	e.srv.Close() // the port now refuses connections
	v, err := verifier.New(e.srv.SecretKey, verifier.WithBaseURL(url), verifier.WithLimits(verifier.Limits{Timeout: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	_, err = v.Verify(context.Background(), unknownToken(3), "")
	if !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	if st := v.Stats(); st.UpstreamCalls != 2 || st.Retries != 1 {
		t.Errorf("got %d upstream calls and %d retries, want 2 and 1", st.UpstreamCalls, st.Retries)
	}
}

// TestMisconfigured: Clerk refuses our key (401): ErrMisconfigured every time,
// logged once at Error level without the key; nothing cached.
func TestMisconfigured(t *testing.T) {
	for _, tc := range []struct {
		name, key, wantCode string
	}{
		{"wrong Clerk secret key", "sk_test_" + strings.Repeat("W", 40), clerkapi.CodeUnauthorized},
		{"wrong machine secret key", "ak_" + strings.Repeat("0e", 20), clerkapi.CodeMachineSecretKeyInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var logs logBuffer
			v := e.verifierWithKey(tc.key, verifier.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			tok := e.token(clerkapi.CreateParams{})
			for i := range 3 {
				_, err := v.Verify(context.Background(), tok, "")
				if !errors.Is(err, verifier.ErrMisconfigured) {
					t.Fatalf("call %d: got %v, want ErrMisconfigured", i, err)
				}
				var ae *clerkapi.APIError
				if !errors.As(err, &ae) || ae.StatusCode != 401 || !ae.HasCode(tc.wantCode) {
					t.Errorf("call %d: got %v, want Clerk's 401 %s via errors.As", i, err, tc.wantCode)
				}
				if strings.Contains(err.Error(), tc.key) {
					t.Errorf("error %q contains the key", err)
				}
			}
			if got := e.verifyCalls(); got != 3 {
				t.Errorf("got %d verify calls, want 3 (never cached)", got)
			}
			out := logs.String()
			if n := strings.Count(out, `"level":"ERROR"`); n != 1 {
				t.Errorf("got %d Error log lines, want 1:\n%s", n, out)
			}
			for _, secret := range []string{tc.key, tc.key[len(tc.key)-12:], tok} {
				if strings.Contains(out, secret) {
					t.Errorf("logs contain a secret %q:\n%s", secret, out)
				}
			}
			if st := v.Stats(); st.Misconfigured != 3 {
				t.Errorf("got %d misconfigured in stats, want 3", st.Misconfigured)
			}
		})
	}
}

// TestNoSecretsInLogs runs every outcome with a Debug logger and checks that
// no token and no key appear.
func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t)
	var logs logBuffer
	v := e.verifier(verifier.WithLimits(verifier.Limits{Timeout: 100 * time.Millisecond}),
		verifier.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	tokens := []string{e.token(clerkapi.CreateParams{}), unknownToken(42)}
	for _, f := range []clerktest.Fault{nil, clerktest.FailNext(1, 500), clerktest.Hang(), clerktest.Malformed(), clerktest.Drop(), clerktest.RateLimited(time.Second)} {
		e.srv.ClearFaults()
		if f != nil {
			e.srv.InjectOn(clerktest.EndpointVerify, f)
		}
		for _, tok := range tokens {
			v.Invalidate(tok)
			_, _ = v.Verify(context.Background(), tok, "")
		}
	}
	out := logs.String()
	if out == "" {
		t.Fatal("no log output at Debug level, want the failures logged")
	}
	for _, secret := range append(tokens, e.srv.SecretKey) {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain a token or key:\n%s", out)
		}
	}
}
