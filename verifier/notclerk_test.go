package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/verifier"
)

// canned is a fake upstream that gives every request the same answer and
// counts the requests by path.
type canned struct {
	*httptest.Server
	status   int
	ctype    string
	body     string
	location string // Location header for a redirect
	verify   atomic.Int64
	jwks     atomic.Int64
}

func newCanned(t testing.TB, status int, ctype, body, location string) *canned {
	t.Helper()
	c := &canned{status: status, ctype: ctype, body: body, location: location}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/m2m_tokens/verify":
			c.verify.Add(1)
		case "/v1/jwks":
			c.jwks.Add(1)
		}
		if c.ctype != "" {
			w.Header().Set("Content-Type", c.ctype)
		}
		if c.location != "" {
			w.Header().Set("Location", c.location)
		}
		w.WriteHeader(c.status)
		_, _ = w.Write([]byte(c.body))
	}))
	t.Cleanup(c.Close)
	return c
}

const notClerkKey = "sk_test_NotClerkKey/x+y=Tail0123456789"

// verifier returns a Verifier on c with a Clerk secret key and opts.
func (c *canned) verifier(t testing.TB, opts ...verifier.Option) *verifier.Verifier {
	t.Helper()
	return newTestVerifier(t, notClerkKey, c.URL+"/v1",
		append([]verifier.Option{verifier.WithClock(func() time.Time { return t0 })}, opts...)...)
}

// TestNotClerk: an answer that is not Clerk's (an HTML or plain 404, JSON of
// another shape, a redirect) is ErrMisconfigured, never invalid, never cached
// (every Verify reaches the upstream), logged once at Error level; a redirect
// is not followed. Clerk's own 404 stays "token invalid", cached.
func TestNotClerk(t *testing.T) {
	// target would accept any token: a followed redirect would make it 200.
	var targetCalls atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"object":"machine_to_machine_token","id":"mt_f7f0ba8c3b4843ce7d85fcdd5e71853e","subject":"mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk","scopes":[],"revoked":false,"expired":false,"expiration":null,"created_at":1,"updated_at":1}`)
	}))
	defer target.Close()
	const html = `<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>`
	for _, tc := range []struct {
		name           string
		status         int
		ctype, body    string
		location       string
		wantInvalid    bool   // Clerk's own refusal: invalid and cached
		wantReason     string // of the *MisconfiguredError
		wantVerifyHits int64  // requests for 3 Verify calls of one token
	}{
		{name: "HTML 404", status: 404, ctype: "text/html", body: html, wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "plain-text 404", status: 404, ctype: "text/plain; charset=utf-8", body: "404 page not found\n", wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "empty 404", status: 404, wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "JSON 404 of another service", status: 404, ctype: "application/json", body: `{"error":"not_found","message":"no route"}`, wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "404 errors without a code", status: 404, ctype: "application/json", body: `{"errors":[{"message":"Not Found"}]}`, wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "HTML 400", status: 400, ctype: "text/html", body: "<h1>Bad Request</h1>", wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "422 of another shape", status: 422, ctype: "application/json", body: `{"detail":[{"loc":["body","token"]}]}`, wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "HTML 401", status: 401, ctype: "text/html", body: "<h1>Unauthorized</h1>", wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "405 HTML", status: 405, ctype: "text/html", body: "<h1>Method Not Allowed</h1>", wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "302 to a server that would accept", status: 302, location: target.URL + "/v1/m2m_tokens/verify", wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "307 to a server that would accept", status: 307, location: target.URL + "/v1/m2m_tokens/verify", wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "301 with an HTML body", status: 301, ctype: "text/html", body: html, location: target.URL + "/", wantReason: verifier.ReasonNotClerk, wantVerifyHits: 3},
		{name: "Clerk's 401", status: 401, ctype: "application/json", body: `{"errors":[{"message":"Unauthorized","long_message":"x","code":"unauthorized"}]}`, wantReason: verifier.ReasonKeyRefused, wantVerifyHits: 3},
		{name: "Clerk's 404", status: 404, ctype: "application/json", body: `{"errors":[{"message":"Not found","long_message":"x","code":"resource_not_found"}]}`, wantInvalid: true, wantVerifyHits: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newCanned(t, tc.status, tc.ctype, tc.body, tc.location)
			var logs logBuffer
			v := up.verifier(t, verifier.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			tok := unknownToken(77)
			targetCalls.Store(0)
			for i := range 3 {
				_, err := v.Verify(context.Background(), tok, "")
				if tc.wantInvalid {
					if !errors.Is(err, verifier.ErrInvalidToken) {
						t.Fatalf("call %d: got %v, want ErrInvalidToken", i, err)
					}
					continue
				}
				var me *verifier.MisconfiguredError
				if !errors.As(err, &me) || me.Reason != tc.wantReason || errors.Is(err, verifier.ErrInvalidToken) || errors.Is(err, verifier.ErrUnavailable) {
					t.Fatalf("call %d: got %v, want only ErrMisconfigured with reason %q", i, err, tc.wantReason)
				}
				var ae *clerkapi.APIError
				if !errors.As(err, &ae) || ae.StatusCode != tc.status {
					t.Errorf("call %d: got %v, want the %d reachable as *clerkapi.APIError", i, err, tc.status)
				}
			}
			if got := up.verify.Load(); got != tc.wantVerifyHits {
				t.Errorf("got %d requests upstream for 3 Verify calls, want %d", got, tc.wantVerifyHits)
			}
			if got := targetCalls.Load(); got != 0 {
				t.Errorf("got %d requests at the redirect's target, want 0 (redirects are not followed)", got)
			}
			st := v.Stats()
			wantErrLines := 1
			if tc.wantInvalid {
				wantErrLines = 0
				if st.NegativeHits != 2 {
					t.Errorf("got %d negative hits, want 2", st.NegativeHits)
				}
			} else if st.Misconfigured != 3 || st.NegativeHits != 0 || st.CacheEntries != 0 {
				t.Errorf("got %d misconfigured, %d negative hits, %d cache entries; want 3, 0, 0", st.Misconfigured, st.NegativeHits, st.CacheEntries)
			}
			out := logs.String()
			if n := strings.Count(out, `"level":"ERROR"`); n != wantErrLines {
				t.Errorf("got %d Error lines, want %d:\n%s", n, wantErrLines, out)
			}
			assertNoSecrets(t, out, notClerkKey, tok)
		})
	}
}

// TestNotClerkJWKS: on /jwks, any answer but a 2xx, a 429 or a 5xx (a 404, a
// redirect, an HTML 401) is ErrMisconfigured for the JWTs that need the keys.
func TestNotClerkJWKS(t *testing.T) {
	for _, tc := range []struct {
		name        string
		status      int
		ctype, body string
		wantReason  string
	}{
		{"HTML 404", 404, "text/html", "<h1>Not Found</h1>", verifier.ReasonNotClerk},
		{"Clerk-shaped 404", 404, "application/json", `{"errors":[{"message":"x","code":"resource_not_found"}]}`, verifier.ReasonNotClerk},
		{"302", 302, "", "", verifier.ReasonNotClerk},
		{"Clerk's 401", 401, "application/json", `{"errors":[{"message":"Unauthorized","code":"unauthorized"}]}`, verifier.ReasonKeyRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newCanned(t, tc.status, tc.ctype, tc.body, "http://127.0.0.1:1/")
			var logs logBuffer
			v := up.verifier(t, verifier.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			_, err := v.Verify(context.Background(), junkJWT(1), "")
			var me *verifier.MisconfiguredError
			if !errors.As(err, &me) || me.Reason != tc.wantReason || errors.Is(err, verifier.ErrInvalidToken) {
				t.Fatalf("got %v, want ErrMisconfigured with reason %q", err, tc.wantReason)
			}
			if n := strings.Count(logs.String(), `"level":"ERROR"`); n != 1 {
				t.Errorf("got %d Error lines, want 1:\n%s", n, logs.String())
			}
			if got := up.jwks.Load(); got != 1 {
				t.Errorf("got %d JWKS requests, want 1", got)
			}
		})
	}
}

// captureDefaultLog makes slog.Default() write JSON to the returned buffer
// until the test ends, then restores the default logger and the log package's
// output (slog.SetDefault redirects both).
func captureDefaultLog(t *testing.T) *logBuffer {
	t.Helper()
	old, w, flags := slog.Default(), log.Writer(), log.Flags()
	var buf logBuffer
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		slog.SetDefault(old)
		log.SetOutput(w)
		log.SetFlags(flags)
	})
	return &buf
}

// assertNoSecrets fails when out holds a secret or any 8-byte piece of it
// past its prefix.
func assertNoSecrets(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for i := len("sk_test_"); i+8 <= len(s); i++ {
			if strings.Contains(out, s[i:i+8]) {
				t.Fatalf("output contains %q, a piece of a secret:\n%s", s[i:i+8], out)
			}
		}
	}
}

// TestMisconfiguredDefaultLogger: without WithLogger, a refused key (on
// verify and on /jwks) and a base URL that is not Clerk are logged once at
// Error level through slog.Default(), looked up when the line is written (the
// default here is set after New), without the key.
func TestMisconfiguredDefaultLogger(t *testing.T) {
	const wrongKey = "sk_test_WrongKey/with=Tail+0123456789"
	for _, tc := range []struct {
		name   string
		verify func(t *testing.T) (func() error, []string) // returns one Verify and the secrets
		reason string
	}{
		{"key refused on verify", func(t *testing.T) (func() error, []string) {
			e := newEnv(t)
			v := e.verifierWithKey(wrongKey, verifier.WithDefaultLogger())
			tok := e.token(clerkapi.CreateParams{})
			return func() error { _, err := v.Verify(context.Background(), tok, ""); return err }, []string{wrongKey, tok}
		}, verifier.ReasonKeyRefused},
		{"key refused on /jwks", func(t *testing.T) (func() error, []string) {
			e := newEnv(t)
			v := e.verifierWithKey(wrongKey, verifier.WithDefaultLogger())
			tok := e.jwt(clerkapi.CreateParams{})
			return func() error { _, err := v.Verify(context.Background(), tok, ""); return err }, []string{wrongKey, tok}
		}, verifier.ReasonKeyRefused},
		{"base URL not Clerk", func(t *testing.T) (func() error, []string) {
			up := newCanned(t, 404, "text/html", "<h1>Not Found</h1>", "")
			v := up.verifier(t, verifier.WithDefaultLogger())
			return func() error { _, err := v.Verify(context.Background(), unknownToken(5), ""); return err }, []string{notClerkKey, unknownToken(5)}
		}, verifier.ReasonNotClerk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			verify, secrets := tc.verify(t) // New runs before the default logger is set
			logs := captureDefaultLog(t)
			for i := range 5 {
				var me *verifier.MisconfiguredError
				if err := verify(); !errors.As(err, &me) || me.Reason != tc.reason {
					t.Fatalf("call %d: got %v, want ErrMisconfigured with reason %q", i, err, tc.reason)
				}
			}
			out := logs.String()
			if n, all := strings.Count(out, `"level":"ERROR"`), strings.Count(out, "\n"); n != 1 || all != 1 {
				t.Errorf("got %d Error lines of %d, want 1 of 1:\n%s", n, all, out)
			}
			assertNoSecrets(t, out, secrets...)
		})
	}
}
