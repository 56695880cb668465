package m2mclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/m2mclient"
	"github.com/m2mauth/m2mauth/verifier"
)

var t0 = time.Date(2026, 5, 12, 12, 0, 0, 0, time.UTC)

// fixture is an emulated Clerk instance with a caller machine scoped to a
// receiver machine, all on one fake clock.
type fixture struct {
	clock    *clerktest.Clock
	srv      *clerktest.Server
	caller   *clerktest.Machine
	receiver *clerktest.Machine
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	clock := clerktest.NewClock(t0)
	return newFixtureOn(t, clock, clock.Now)
}

// newFixtureOn is newFixture with the emulator on the clock now.
func newFixtureOn(t testing.TB, clock *clerktest.Clock, now func() time.Time) *fixture {
	t.Helper()
	srv := clerktest.NewServer(clerktest.WithClock(now))
	t.Cleanup(srv.Close)
	receiver := srv.CreateMachine("receiver")
	caller := srv.CreateMachine("caller", receiver.ID)
	return &fixture{clock: clock, srv: srv, caller: caller, receiver: receiver}
}

// source returns a TokenSource for the caller machine on the fixture's clock.
func (f *fixture) source(t testing.TB, opts ...m2mclient.Option) *m2mclient.TokenSource {
	t.Helper()
	base := []m2mclient.Option{m2mclient.WithBaseURL(f.srv.URL), m2mclient.WithClock(f.clock.Now)}
	ts, err := m2mclient.NewTokenSource(f.caller.SecretKey, append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewTokenSource: %v", err)
	}
	return ts
}

// verifyAtClerk asks the emulator, with the receiver's key, whether tok is valid.
func (f *fixture) verifyAtClerk(t testing.TB, tok string) error {
	t.Helper()
	api, err := clerkapi.New(f.receiver.SecretKey, clerkapi.WithBaseURL(f.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.VerifyToken(context.Background(), tok)
	return err
}

// callee is a protected service: it verifies every request's bearer token with
// verify and answers 401 Bearer error="invalid_token" when that fails.
type callee struct {
	*httptest.Server
	verify func(ctx context.Context, token string) error

	mu        sync.Mutex
	hits      int            // requests received
	tokens    map[string]int // requests per token value
	bodies    []string       // bodies received, in order
	always401 bool           // refuse everything
}

func newCallee(t testing.TB, verify func(ctx context.Context, token string) error) *callee {
	t.Helper()
	c := &callee{verify: verify, tokens: map[string]int{}}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.Close)
	return c
}

// newServer starts an httptest server with h, closed when the test ends.
func newServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func (c *callee) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	c.mu.Lock()
	c.hits++
	c.tokens[tok]++
	c.bodies = append(c.bodies, string(body))
	always401 := c.always401
	c.mu.Unlock()
	if !ok || always401 || c.verify(r.Context(), tok) != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="callee", error="invalid_token"`)
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	io.WriteString(w, "ok")
}

func (c *callee) stats() (hits int, distinct int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, len(c.tokens)
}

// clerkVerify verifies at the emulator on every request, with the receiver's key.
func (f *fixture) clerkVerify(t testing.TB) func(context.Context, string) error {
	api, err := clerkapi.New(f.receiver.SecretKey, clerkapi.WithBaseURL(f.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, tok string) error {
		_, err := api.VerifyToken(ctx, tok)
		return err
	}
}

// get sends a GET through client and returns the status, reading the body.
func get(t testing.TB, client *http.Client, url string) int {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func isAPIError(err error, status int) bool {
	var ae *clerkapi.APIError
	return errors.As(err, &ae) && ae.StatusCode == status
}

// handlerTransport serves requests in-process with h: a RoundTripper without
// sockets, for tests that send thousands of requests.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	if r.Body == nil {
		r.Body = http.NoBody // as a server would see it; r is the Transport's copy
	}
	ht.h.ServeHTTP(rec, r)
	r.Body.Close()
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// newVerifier returns the receiver's caching verifier (its machine key) on the
// fixture's clock, closed when the test ends.
func (f *fixture) newVerifier(t testing.TB) *verifier.Verifier {
	t.Helper()
	v, err := verifier.New(f.receiver.SecretKey, verifier.WithBaseURL(f.srv.URL), verifier.WithClock(f.clock.Now))
	if err != nil {
		t.Fatalf("verifier.New: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func (f *fixture) verifierFunc(v *verifier.Verifier) func(context.Context, string) error {
	return func(ctx context.Context, tok string) error {
		_, err := v.Verify(ctx, tok, "")
		return err
	}
}
