package m2mclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/m2mclient"
)

func mustToken(t testing.TB, ts *m2mclient.TokenSource) *m2mclient.Token {
	t.Helper()
	tok, err := ts.Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

func TestTokenSource_RefreshAheadByClock(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       []m2mclient.Option
		refreshAt  time.Duration // from creation
		wantExpiry time.Duration
	}{
		{"one hour, default margin 5 min", []m2mclient.Option{m2mclient.WithLifetime(time.Hour)}, 55 * time.Minute, time.Hour},
		{"one minute, default margin 20 %", []m2mclient.Option{m2mclient.WithLifetime(time.Minute)}, 48 * time.Second, time.Minute},
		{"machine default TTL (1 h)", nil, 55 * time.Minute, time.Hour},
		{"explicit margin", []m2mclient.Option{m2mclient.WithLifetime(10 * time.Minute), m2mclient.WithRefreshMargin(2 * time.Minute)}, 8 * time.Minute, 10 * time.Minute},
		{"zero margin", []m2mclient.Option{m2mclient.WithLifetime(10 * time.Minute), m2mclient.WithRefreshMargin(0)}, 10 * time.Minute, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ts := f.source(t, tc.opts...)
			first := mustToken(t, ts)
			if want := t0.Add(tc.wantExpiry); !first.ExpiresAt.Equal(want) {
				t.Errorf("ExpiresAt = %v, want %v", first.ExpiresAt, want)
			}

			f.clock.Set(t0.Add(tc.refreshAt - time.Second))
			if got := mustToken(t, ts); got != first {
				t.Errorf("1 s before the margin: got token %s, want the cached %s", got.ID, first.ID)
			}
			if got := f.srv.Calls(clerktest.EndpointCreate); got != 1 {
				t.Errorf("create calls before the margin = %d, want 1", got)
			}

			f.clock.Set(t0.Add(tc.refreshAt))
			second := mustToken(t, ts)
			if second.ID == first.ID {
				t.Errorf("at the margin: got the old token %s, want a new one", first.ID)
			}
			if got := f.srv.Calls(clerktest.EndpointCreate); got != 2 {
				t.Errorf("create calls after the margin = %d, want 2", got)
			}
			if tc.refreshAt < tc.wantExpiry {
				if err := f.verifyAtClerk(t, first.Value); err != nil {
					t.Errorf("old token before its expiry: %v, want still valid at Clerk", err)
				}
			}
			if st := ts.Stats(); st.Creates != 2 || st.Refreshes != 1 {
				t.Errorf("Stats() = %+v, want 2 creates, 1 refresh", st)
			}
		})
	}
}

func TestTokenSource_FailedRefreshKeepsLiveToken(t *testing.T) {
	f := newFixture(t)
	ts := f.source(t, m2mclient.WithLifetime(10*time.Minute), m2mclient.WithRefreshMargin(2*time.Minute))
	first := mustToken(t, ts)

	f.clock.Set(t0.Add(9 * time.Minute)) // inside the margin
	f.srv.InjectOn(clerktest.EndpointCreate, clerktest.FailNext(1, http.StatusServiceUnavailable))
	if got := mustToken(t, ts); got != first {
		t.Errorf("failed refresh: got %s, want the still-live %s", got.ID, first.ID)
	}
	if got := f.srv.Calls(clerktest.EndpointCreate); got != 2 {
		t.Fatalf("create calls = %d, want 2 (one failed)", got)
	}
	// Right after a failure Clerk is left alone for a few seconds.
	f.clock.Advance(time.Second)
	if got := mustToken(t, ts); got != first {
		t.Errorf("1 s after the failure: got %s, want %s", got.ID, first.ID)
	}
	if got := f.srv.Calls(clerktest.EndpointCreate); got != 2 {
		t.Errorf("create calls 1 s after a failure = %d, want 2 (no retry yet)", got)
	}
	f.clock.Advance(5 * time.Second)
	if got := mustToken(t, ts); got.ID == first.ID {
		t.Errorf("after the retry delay: got the old token, want a new one")
	}
	if st := ts.Stats(); st.Creates != 2 || st.Failures != 1 || st.Refreshes != 1 {
		t.Errorf("Stats() = %+v, want 2 creates, 1 failure, 1 refresh", st)
	}
}

func TestTokenSource_Errors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		key        func(f *fixture) string
		fault      clerktest.Fault
		wantStatus int // 0: not an APIError
	}{
		{"wrong machine key", func(*fixture) string { return "ak_" + strings.Repeat("0", 40) }, nil, http.StatusUnauthorized},
		{"clerk 503", nil, clerktest.FailNext(1, http.StatusServiceUnavailable), http.StatusServiceUnavailable},
		{"clerk 429", nil, clerktest.RateLimited(7 * time.Second), http.StatusTooManyRequests},
		{"malformed body", nil, clerktest.Malformed(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			key := f.caller.SecretKey
			if tc.key != nil {
				key = tc.key(f)
			}
			if tc.fault != nil {
				f.srv.InjectOn(clerktest.EndpointCreate, tc.fault)
			}
			ts, err := m2mclient.NewTokenSource(key, m2mclient.WithBaseURL(f.srv.URL), m2mclient.WithClock(f.clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := ts.Token(context.Background())
			if err == nil {
				t.Fatalf("Token = %v, want an error", tok)
			}
			var ae *clerkapi.APIError
			if tc.wantStatus != 0 && (!errors.As(err, &ae) || ae.StatusCode != tc.wantStatus) {
				t.Errorf("error %v: want a wrapped *clerkapi.APIError with status %d", err, tc.wantStatus)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error string %q contains the secret key", err)
			}
			if st := ts.Stats(); st.Failures != 1 || st.Creates != 0 {
				t.Errorf("Stats() = %+v, want 1 failure, 0 creates", st)
			}
		})
	}
}

func TestTokenSource_Invalidate(t *testing.T) {
	f := newFixture(t)
	ts := f.source(t)
	first := mustToken(t, ts)

	if ts.Invalidate("mt_not_the_current_value") {
		t.Error("Invalidate(other value) = true, want false")
	}
	if got := mustToken(t, ts); got != first {
		t.Errorf("after Invalidate(other value): got %s, want the cached %s", got.ID, first.ID)
	}

	// 50 requests refused at once all invalidate the same value: one refresh.
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			ts.Invalidate(first.Value)
			if _, err := ts.Token(context.Background()); err != nil {
				t.Errorf("Token: %v", err)
			}
		})
	}
	wg.Wait()
	if got := f.srv.Calls(clerktest.EndpointCreate); got != 2 {
		t.Errorf("create calls after 50 concurrent invalidations = %d, want 2", got)
	}
	if st := ts.Stats(); st.Invalidations != 1 || st.Refreshes != 1 {
		t.Errorf("Stats() = %+v, want 1 invalidation, 1 refresh", st)
	}
	// The replacement is refused too: it is kept for ReplaceCooldown.
	second := mustToken(t, ts)
	f.clock.Advance(m2mclient.ReplaceCooldown - time.Second)
	if ts.Invalidate(second.Value) {
		t.Errorf("Invalidate(replacement) %v after its creation = true, want false (cooldown)", m2mclient.ReplaceCooldown-time.Second)
	}
	f.clock.Advance(time.Second)
	if !ts.Invalidate(second.Value) {
		t.Errorf("Invalidate(replacement) after the cooldown = false, want true")
	}
}

func TestTokenSource_MinRemainingTTL(t *testing.T) {
	t.Run("wire", func(t *testing.T) {
		for _, tc := range []struct {
			name       string
			opts       []m2mclient.Option
			invalidate bool
			want       string // the create body's min_remaining_ttl_seconds, "" when absent
		}{
			{"not configured", nil, false, ""},
			{"configured", []m2mclient.Option{m2mclient.WithMinRemainingTTL(4 * time.Minute)}, false, "240"},
			{"after Invalidate", []m2mclient.Option{m2mclient.WithMinRemainingTTL(4 * time.Minute)}, true, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := newFixture(t)
				var mu sync.Mutex
				var bodies []map[string]json.RawMessage
				proxy := newServer(t, func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					var m map[string]json.RawMessage
					json.Unmarshal(b, &m)
					mu.Lock()
					bodies = append(bodies, m)
					mu.Unlock()
					r.Body = io.NopCloser(strings.NewReader(string(b)))
					f.srv.Handler().ServeHTTP(w, r)
				})
				ts, err := m2mclient.NewTokenSource(f.caller.SecretKey, append([]m2mclient.Option{
					m2mclient.WithBaseURL(proxy.URL + "/v1"), m2mclient.WithClock(f.clock.Now), m2mclient.WithLifetime(time.Hour),
				}, tc.opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				tok := mustToken(t, ts)
				if tc.invalidate {
					ts.Invalidate(tok.Value)
					mustToken(t, ts)
				}
				mu.Lock()
				defer mu.Unlock()
				last := bodies[len(bodies)-1]
				if got := string(last["min_remaining_ttl_seconds"]); got != tc.want {
					t.Errorf("min_remaining_ttl_seconds = %q, want %q", got, tc.want)
				}
				if got := string(last["seconds_until_expiration"]); got != "3600" {
					t.Errorf("seconds_until_expiration = %q, want 3600", got)
				}
			})
		}
	})

	t.Run("a new process reuses the live token", func(t *testing.T) {
		f := newFixture(t)
		opts := []m2mclient.Option{m2mclient.WithLifetime(time.Hour), m2mclient.WithMinRemainingTTL(10 * time.Minute)}
		first := mustToken(t, f.source(t, opts...))
		f.clock.Advance(30 * time.Minute)
		again := mustToken(t, f.source(t, opts...)) // a second run of the process
		if again.ID != first.ID || again.Value != first.Value {
			t.Errorf("second process got token %s, want the reused %s", again.ID, first.ID)
		}
		if want := t0.Add(time.Hour); !again.ExpiresAt.Equal(want) {
			t.Errorf("reused token ExpiresAt = %v, want %v", again.ExpiresAt, want)
		}
		f.clock.Advance(25 * time.Minute) // 5 min left < 10 min: a new token
		if third := mustToken(t, f.source(t, opts...)); third.ID == first.ID {
			t.Errorf("with 5 min left got the old token again, want a new one")
		}
	})
}

func TestNewTokenSource_Validation(t *testing.T) {
	key := "ak_" + strings.Repeat("a", 40)
	for _, tc := range []struct {
		name string
		key  string
		opts []m2mclient.Option
	}{
		{"empty key", "", nil},
		{"instance key", "sk_test_" + strings.Repeat("a", 40), nil},
		{"key with space", "ak_abc def", nil},
		{"lifetime under a second", key, []m2mclient.Option{m2mclient.WithLifetime(time.Millisecond)}},
		{"negative margin", key, []m2mclient.Option{m2mclient.WithRefreshMargin(-time.Second)}},
		{"margin not shorter than lifetime", key, []m2mclient.Option{m2mclient.WithLifetime(time.Minute), m2mclient.WithRefreshMargin(time.Minute)}},
		{"unknown format", key, []m2mclient.Option{m2mclient.WithFormat("paseto")}},
		{"claims not an object", key, []m2mclient.Option{m2mclient.WithClaims([]int{1})}},
		{"claims do not marshal", key, []m2mclient.Option{m2mclient.WithClaims(func() {})}},
		{"min TTL with JWT", key, []m2mclient.Option{m2mclient.WithFormat(clerkapi.FormatJWT), m2mclient.WithMinRemainingTTL(time.Minute)}},
		{"min TTL not shorter than lifetime", key, []m2mclient.Option{m2mclient.WithLifetime(time.Minute), m2mclient.WithMinRemainingTTL(time.Minute)}},
		{"bad base URL", key, []m2mclient.Option{m2mclient.WithBaseURL("ftp://x")}},
		{"nil HTTP client", key, []m2mclient.Option{m2mclient.WithHTTPClient(nil)}},
		{"zero timeout", key, []m2mclient.Option{m2mclient.WithTimeout(0)}},
		{"nil clock", key, []m2mclient.Option{m2mclient.WithClock(nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := m2mclient.NewTokenSource(tc.key, tc.opts...)
			if err == nil {
				t.Fatalf("NewTokenSource = %v, want an error", ts)
			}
			if tc.key != "" && strings.Contains(err.Error(), tc.key) {
				t.Errorf("error %q contains the key", err)
			}
		})
	}
}

func TestTokenSource_ClaimsAndFormat(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format clerkapi.TokenFormat
	}{
		{"opaque", clerkapi.FormatOpaque},
		{"jwt", clerkapi.FormatJWT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ts := f.source(t, m2mclient.WithFormat(tc.format), m2mclient.WithClaims(map[string]string{"team": "billing"}))
			tok := mustToken(t, ts)
			if tok.Format != tc.format {
				t.Errorf("Format = %q, want %q", tok.Format, tc.format)
			}
			if got := string(tok.Claims); got != `{"team":"billing"}` {
				t.Errorf("Claims = %s, want {\"team\":\"billing\"}", got)
			}
			if tok.Subject != f.caller.ID || len(tok.Scopes) != 1 || tok.Scopes[0] != f.receiver.ID {
				t.Errorf("Subject %s, Scopes %v; want %s, [%s]", tok.Subject, tok.Scopes, f.caller.ID, f.receiver.ID)
			}
			if err := f.verifyAtClerk(t, tok.Value); err != nil {
				t.Errorf("verify at Clerk: %v", err)
			}
		})
	}
}

func TestToken_PrintsWithoutSecret(t *testing.T) {
	f := newFixture(t)
	tok := mustToken(t, f.source(t))
	for _, verb := range []string{"%v", "%+v", "%s", "%#v"} {
		if s := fmt.Sprintf(verb, tok); strings.Contains(s, tok.Value) || !strings.Contains(s, tok.ID) {
			t.Errorf("Sprintf(%s) = %q: want the ID and not the secret value", verb, s)
		}
	}
}

func TestTokenSource_RefusesUnusableAnswers(t *testing.T) {
	now := t0.UnixMilli()
	for _, tc := range []struct {
		name string
		body string
	}{
		{"no token value", fmt.Sprintf(`{"object":"machine_to_machine_token","id":"mt_%032x","expiration":%d,"created_at":%d}`, 1, now+3600e3, now)},
		{"already expired", fmt.Sprintf(`{"object":"machine_to_machine_token","id":"mt_%032x","token":"mt_x","expiration":%d,"created_at":%d}`, 1, now-1, now-3600e3)},
		{"revoked", fmt.Sprintf(`{"object":"machine_to_machine_token","id":"mt_%032x","token":"mt_x","revoked":true,"expiration":%d,"created_at":%d}`, 1, now+3600e3, now)},
		{"white space in value", fmt.Sprintf(`{"object":"machine_to_machine_token","id":"mt_%032x","token":"mt x","expiration":%d,"created_at":%d}`, 1, now+3600e3, now)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, tc.body)
			})
			clock := clerktest.NewClock(t0)
			ts, err := m2mclient.NewTokenSource("ak_test", m2mclient.WithBaseURL(fake.URL), m2mclient.WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			if tok, err := ts.Token(context.Background()); err == nil {
				t.Errorf("Token = %v, want an error", tok)
			}
			if st := ts.Stats(); st.Failures != 1 || st.Creates != 0 {
				t.Errorf("Stats() = %+v, want 1 failure, 0 creates", st)
			}
		})
	}
}

func TestTokenSource_HonoursRetryAfterWithoutToken(t *testing.T) {
	f := newFixture(t)
	f.srv.InjectOn(clerktest.EndpointCreate, clerktest.RateLimited(7*time.Second))
	ts := f.source(t)
	for i, tc := range []struct {
		advance    time.Duration
		wantCalls  int64
		wantStatus int // 0: success
	}{
		{0, 1, http.StatusTooManyRequests},
		{time.Second, 1, http.StatusTooManyRequests},     // held off: no call
		{5 * time.Second, 1, http.StatusTooManyRequests}, // 6 s in: still held off
		{time.Second, 2, 0},                              // 7 s in: asks again (fault cleared below)
	} {
		f.clock.Advance(tc.advance)
		if i == 3 {
			f.srv.ClearFaults()
		}
		_, err := ts.Token(context.Background())
		if tc.wantStatus == 0 && err != nil || tc.wantStatus != 0 && !isAPIError(err, tc.wantStatus) {
			t.Errorf("step %d: error %v, want status %d (0: none)", i, err, tc.wantStatus)
		}
		if got := f.srv.Calls(clerktest.EndpointCreate); got != tc.wantCalls {
			t.Errorf("step %d: create calls = %d, want %d", i, got, tc.wantCalls)
		}
	}
}
