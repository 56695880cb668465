package verifier_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// ceilSeconds rounds d up to whole seconds, as the gate's Retry-After.
func ceilSeconds(d time.Duration) time.Duration {
	return (d + time.Second - 1) / time.Second * time.Second
}

// TestBackoffAfterRateLimit: after one 429 with Retry-After 7 s, 1,000 new
// valid tokens cost no call to Clerk until the clock reaches the deadline;
// each is refused with the time left, which decreases as the clock advances.
// Cached tokens (accepted and refused) and local syntax checks work as usual;
// after the window each new token costs one call again.
func TestBackoffAfterRateLimit(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	cached := e.token(clerkapi.CreateParams{})
	if _, err := v.Verify(context.Background(), cached, ""); err != nil {
		t.Fatalf("Verify(cached): %v", err)
	}
	unknown := unknownToken(7)
	if _, err := v.Verify(context.Background(), unknown, ""); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatalf("Verify(unknown): got %v, want ErrInvalidToken", err)
	}
	const n = 1000
	fresh := make([]string, n)
	for i := range fresh {
		fresh[i] = e.token(clerkapi.CreateParams{})
	}

	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(7*time.Second))
	_, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), "")
	if !errors.Is(err, verifier.ErrUnavailable) || errors.Is(err, verifier.ErrBackoff) {
		t.Fatalf("Verify during the 429: got %v, want Clerk's ErrUnavailable (not a back-off refusal)", err)
	}
	if got := verifier.RetryAfter(err); got != 7*time.Second {
		t.Fatalf("got Retry-After %v from Clerk's 429, want 7s", got)
	}
	// Clerk would answer now: only the gate keeps the tokens below from it.
	e.srv.ClearFaults()
	start := e.clk.Now()
	const wantCalls = 3
	if got := e.verifyCalls(); got != wantCalls {
		t.Fatalf("got %d verify calls before the window, want %d", got, wantCalls)
	}

	prev := 7 * time.Second
	step := 7 * time.Second / n
	for i, tok := range fresh {
		e.clk.Set(start.Add(time.Duration(i) * step))
		_, err := v.Verify(context.Background(), tok, "")
		if !errors.Is(err, verifier.ErrUnavailable) || !errors.Is(err, verifier.ErrBackoff) {
			t.Fatalf("token %d: got %v, want ErrUnavailable and ErrBackoff", i, err)
		}
		var ae *clerkapi.APIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("token %d: got %v, want Clerk's 429 reachable with errors.As", i, err)
		}
		ra := verifier.RetryAfter(err)
		if want := ceilSeconds(7*time.Second - time.Duration(i)*step); ra != want {
			t.Fatalf("token %d at +%v: got Retry-After %v, want %v", i, time.Duration(i)*step, ra, want)
		}
		if ra < time.Second || ra > prev {
			t.Fatalf("token %d: got Retry-After %v, want within [1s, %v] (never increasing)", i, ra, prev)
		}
		prev = ra
		if i%100 == 0 {
			if _, err := v.Verify(context.Background(), cached, ""); err != nil {
				t.Fatalf("cached token at +%v: %v, want it served from the cache", time.Duration(i)*step, err)
			}
			if _, err := v.Verify(context.Background(), unknown, ""); !errors.Is(err, verifier.ErrInvalidToken) {
				t.Fatalf("refused token at +%v: got %v, want ErrInvalidToken from the cache", time.Duration(i)*step, err)
			}
			if _, err := v.Verify(context.Background(), "not-a-token", ""); !errors.Is(err, verifier.ErrInvalidToken) {
				t.Fatalf("malformed token at +%v: got %v, want ErrInvalidToken", time.Duration(i)*step, err)
			}
		}
	}
	if prev != time.Second {
		t.Errorf("got last Retry-After %v, want 1s just before the deadline", prev)
	}
	if got := e.verifyCalls(); got != wantCalls {
		t.Fatalf("got %d verify calls after %d new tokens within Retry-After, want still %d", got, n, wantCalls)
	}
	if st := v.Stats(); st.BackoffRefusals != n || st.Unavailable != n+1 || st.UpstreamCalls != wantCalls {
		t.Errorf("got %d back-off refusals, %d unavailable, %d upstream calls; want %d, %d, %d",
			st.BackoffRefusals, st.Unavailable, st.UpstreamCalls, n, n+1, wantCalls)
	}

	e.clk.Set(start.Add(7 * time.Second))
	for i, tok := range fresh[:3] {
		if _, err := v.Verify(context.Background(), tok, ""); err != nil {
			t.Fatalf("token %d after the window: %v, want it verified", i, err)
		}
		if got, want := e.verifyCalls(), int64(wantCalls+i+1); got != want {
			t.Fatalf("token %d after the window: got %d verify calls, want %d (one per new token)", i, got, want)
		}
	}
}

// TestBackoffRateLimitWindow: Clerk's sliding-window limit (3 per 10 s on the
// shared clock) answers the fourth token with Retry-After 7 s; the gate keeps
// every other new token from Clerk until the window lets one in again.
func TestBackoffRateLimitWindow(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimit(3, 10*time.Second))
	for i := range 3 {
		if _, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), ""); err != nil {
			t.Fatalf("token %d within the limit: %v", i, err)
		}
		e.clk.Advance(time.Second)
	}
	_, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), "")
	if got := verifier.RetryAfter(err); !errors.Is(err, verifier.ErrUnavailable) || got != 7*time.Second {
		t.Fatalf("fourth token: got %v (Retry-After %v), want ErrUnavailable with 7s", err, got)
	}
	for i := range 100 {
		_, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), "")
		if got := verifier.RetryAfter(err); !errors.Is(err, verifier.ErrBackoff) || got != 7*time.Second {
			t.Fatalf("new token %d in the window: got %v (Retry-After %v), want ErrBackoff with 7s", i, err, got)
		}
	}
	if got := e.verifyCalls(); got != 4 {
		t.Fatalf("got %d verify calls, want 4 (none while backing off)", got)
	}
	e.clk.Advance(7 * time.Second)
	if _, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), ""); err != nil {
		t.Fatalf("new token after the window: %v", err)
	}
	if got := e.verifyCalls(); got != 5 {
		t.Errorf("got %d verify calls, want 5", got)
	}
}

// TestBackoffNotStarted: failures without Retry-After, or a disabled gate,
// leave every new token to Clerk as before.
func TestBackoffNotStarted(t *testing.T) {
	for _, tc := range []struct {
		name         string
		fault        clerktest.Fault
		opts         []verifier.Option
		callsPerMiss int64
	}{
		{"503 without Retry-After", clerktest.FailNext(1<<20, http.StatusServiceUnavailable), nil, 1},
		{"500 without Retry-After", clerktest.FailNext(1<<20, http.StatusInternalServerError), nil, 1},
		{"dropped connection", clerktest.Drop(), nil, 2},
		{"malformed answer", clerktest.Malformed(), nil, 1},
		{"429 with the gate disabled", clerktest.RateLimited(7 * time.Second), []verifier.Option{verifier.WithLimits(verifier.Limits{MaxBackoff: -1})}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			// Without the breaker, which would open after these failures
			// (see TestBreaker).
			v := e.verifier(append(tc.opts, verifier.WithLimits(verifier.Limits{BreakerFailures: -1}))...)
			e.srv.InjectOn(clerktest.EndpointVerify, tc.fault)
			const n = 5
			for i := range n {
				_, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), "")
				if !errors.Is(err, verifier.ErrUnavailable) || errors.Is(err, verifier.ErrBackoff) {
					t.Fatalf("token %d: got %v, want ErrUnavailable from Clerk, not a back-off", i, err)
				}
			}
			if got, want := e.verifyCalls(), n*tc.callsPerMiss; got != want {
				t.Errorf("got %d verify calls for %d new tokens, want %d", got, n, want)
			}
			e.srv.ClearFaults()
			if _, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), ""); err != nil {
				t.Errorf("new token after ClearFaults: %v", err)
			}
			if st := v.Stats(); st.BackoffRefusals != 0 {
				t.Errorf("got %d back-off refusals, want 0", st.BackoffRefusals)
			}
		})
	}
}

// TestBackoffCap: a Retry-After longer than WithMaxBackoff backs off for the
// cap only, and every Retry-After returned, the first answer's included, is
// capped.
func TestBackoffCap(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []verifier.Option
		want time.Duration
	}{
		{"default cap", nil, verifier.DefaultMaxBackoff},
		{"10s cap", []verifier.Option{verifier.WithLimits(verifier.Limits{MaxBackoff: 10 * time.Second})}, 10 * time.Second},
		{"cap above Retry-After", []verifier.Option{verifier.WithLimits(verifier.Limits{MaxBackoff: time.Hour})}, 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v := e.verifier(tc.opts...)
			e.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(5*time.Minute))
			if _, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), ""); verifier.RetryAfter(err) != tc.want {
				t.Fatalf("got %v (Retry-After %v), want Clerk's 429 with %v (5m capped)", err, verifier.RetryAfter(err), tc.want)
			}
			e.srv.ClearFaults()
			_, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), "")
			if got := verifier.RetryAfter(err); !errors.Is(err, verifier.ErrBackoff) || got != tc.want {
				t.Fatalf("got %v (Retry-After %v), want ErrBackoff with %v", err, got, tc.want)
			}
			e.clk.Advance(tc.want - time.Nanosecond)
			if _, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), ""); verifier.RetryAfter(err) != time.Second {
				t.Fatalf("1ns before the end: got %v, want ErrBackoff with 1s", err)
			}
			e.clk.Advance(time.Nanosecond)
			if _, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), ""); err != nil {
				t.Fatalf("at the end of the back-off: %v, want the token", err)
			}
			if got := e.verifyCalls(); got != 2 {
				t.Errorf("got %d verify calls, want 2", got)
			}
		})
	}
}

// TestBackoffConcurrent: while the gate is open, concurrent callers with new
// tokens are all refused without a call, cached tokens are all served, and the
// clock may move meanwhile (run with -race).
func TestBackoffConcurrent(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	cached := e.token(clerkapi.CreateParams{})
	if _, err := v.Verify(context.Background(), cached, ""); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	fresh := make([]string, n)
	for i := range fresh {
		fresh[i] = e.token(clerkapi.CreateParams{})
	}
	// Several cold tokens meet the rate limit at once: each asks Clerk at most
	// once, and the gate ends up open for 7 s.
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(7*time.Second))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{}), ""); !errors.Is(err, verifier.ErrUnavailable) {
				t.Errorf("cold token under 429: got %v, want ErrUnavailable", err)
			}
		})
	}
	wg.Wait()
	before := e.verifyCalls()
	if before < 2 || before > 21 {
		t.Fatalf("got %d verify calls after 20 concurrent cold tokens under 429, want 2 to 21", before)
	}
	e.srv.ClearFaults()

	start := make(chan struct{})
	wg.Go(func() { // the clock moves, but stays within the window
		<-start
		for range 100 {
			e.clk.Advance(time.Millisecond)
		}
	})
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := v.Verify(context.Background(), fresh[i], "")
			if ra := verifier.RetryAfter(err); !errors.Is(err, verifier.ErrBackoff) || ra < time.Second || ra > 7*time.Second {
				t.Errorf("new token %d: got %v (Retry-After %v), want ErrBackoff within [1s, 7s]", i, err, ra)
			}
			if _, err := v.Verify(context.Background(), cached, ""); err != nil {
				t.Errorf("cached token: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := e.verifyCalls(); got != before {
		t.Errorf("got %d verify calls after %d concurrent new tokens within the window, want still %d", got, n, before)
	}
	if st := v.Stats(); st.BackoffRefusals < n {
		t.Errorf("got %d back-off refusals, want at least %d", st.BackoffRefusals, n)
	}
}

// TestBackoffLogsOnce: each back-off is logged once at Warn level, without a
// token or the key; refusals within it are not logged.
func TestBackoffLogsOnce(t *testing.T) {
	e := newEnv(t)
	var logs logBuffer
	v := e.verifier(verifier.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(7*time.Second))
	var toks []string
	for round := range 2 {
		for range 10 {
			tok := e.token(clerkapi.CreateParams{})
			toks = append(toks, tok)
			if _, err := v.Verify(context.Background(), tok, ""); !errors.Is(err, verifier.ErrUnavailable) {
				t.Fatalf("round %d: got %v, want ErrUnavailable", round, err)
			}
		}
		e.clk.Advance(7 * time.Second)
	}
	out := logs.String()
	if got := strings.Count(out, `"level":"WARN"`); got != 2 {
		t.Errorf("got %d Warn lines for two back-offs, want 2:\n%s", got, out)
	}
	if got := e.verifyCalls(); got != 2 {
		t.Errorf("got %d verify calls, want 2 (one per back-off)", got)
	}
	for _, secret := range append(toks, e.srv.SecretKey) {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain a token or the key:\n%s", out)
		}
	}
}

// BenchmarkBackoffRefusalParallel: the cost of refusing a flood of made-up
// well-formed tokens while Clerk has asked us to wait (real clock): syntax
// check, hash, cache miss, gate check, no call.
func BenchmarkBackoffRefusalParallel(b *testing.B) {
	e := newRealTimeEnv(b)
	v := e.verifier()
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(time.Minute))
	if _, err := v.Verify(context.Background(), unknownToken(0), ""); !errors.Is(err, verifier.ErrUnavailable) {
		b.Fatalf("got %v, want Clerk's 429", err)
	}
	toks := make([]string, 4096)
	for i := range toks {
		toks[i] = unknownToken(i + 1)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := v.Verify(context.Background(), toks[i%len(toks)], ""); !errors.Is(err, verifier.ErrBackoff) {
				b.Fatalf("got %v, want ErrBackoff", err)
			}
			i++
		}
	})
	if got := e.verifyCalls(); got != 1 {
		b.Errorf("got %d verify calls, want 1", got)
	}
}
