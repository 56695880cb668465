package verifier_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)

// env is an emulated Clerk instance with two machines: caller may call callee.
type env struct {
	t      testing.TB
	clk    *clerktest.Clock
	srv    *clerktest.Server
	caller *clerktest.Machine
	callee *clerktest.Machine
}

func newEnv(t testing.TB) *env {
	t.Helper()
	clk := clerktest.NewClock(t0)
	e := newEnvWith(t, clerktest.WithClock(clk.Now))
	e.clk = clk
	return e
}

// newRealTimeEnv is an env on the real clock, for benchmarks: the verifier
// then reads time.Now as in production.
func newRealTimeEnv(t testing.TB) *env { return newEnvWith(t) }

func newEnvWith(t testing.TB, opts ...clerktest.Option) *env {
	t.Helper()
	srv := clerktest.NewServer(opts...)
	t.Cleanup(srv.Close)
	callee := srv.CreateMachine("callee")
	caller := srv.CreateMachine("caller", callee.ID)
	return &env{t: t, srv: srv, caller: caller, callee: callee}
}

// verifier returns a Verifier on the emulator with the Clerk secret key, the
// shared clock (if any) and its own HTTP transport (closed at the end of the test).
func (e *env) verifier(opts ...verifier.Option) *verifier.Verifier {
	e.t.Helper()
	return e.verifierWithKey(e.srv.SecretKey, opts...)
}

func (e *env) verifierWithKey(key string, opts ...verifier.Option) *verifier.Verifier {
	e.t.Helper()
	var clock []verifier.Option
	if e.clk != nil {
		clock = append(clock, verifier.WithClock(e.clk.Now))
	}
	return newTestVerifier(e.t, key, e.srv.URL, append(clock, opts...)...)
}

// newTestVerifier returns a Verifier with key on the Backend API at baseURL,
// with its own HTTP transport; both are closed when t ends. It logs nothing
// unless opts say otherwise (WithLogger, WithDefaultLogger).
func newTestVerifier(t testing.TB, key, baseURL string, opts ...verifier.Option) *verifier.Verifier {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	base := []verifier.Option{verifier.WithBaseURL(baseURL), verifier.WithHTTPClient(&http.Client{Transport: tr}), verifier.WithLogger(discardLogger)}
	v, err := verifier.New(key, append(base, opts...)...)
	if err != nil {
		t.Fatalf("verifier.New: %v", err)
	}
	t.Cleanup(func() {
		v.Close()
		tr.CloseIdleConnections()
	})
	return v
}

// token mints a token of the caller machine and returns its secret value.
func (e *env) token(p clerkapi.CreateParams) string {
	e.t.Helper()
	return e.mint(e.caller.ID, p).Token
}

func (e *env) mint(machineID string, p clerkapi.CreateParams) *clerkapi.M2MToken {
	e.t.Helper()
	m, err := e.srv.CreateToken(machineID, p)
	if err != nil {
		e.t.Fatalf("CreateToken: %v", err)
	}
	return m
}

func (e *env) verifyCalls() int64 { return e.srv.Calls(clerktest.EndpointVerify) }

// unknownToken returns a well-formed opaque token Clerk never issued.
func unknownToken(i int) string {
	n := []byte(strings.Repeat("0", 32))
	for j := 31; j >= 0 && i > 0; j-- {
		n[j] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[i%62]
		i /= 62
	}
	return "mt_" + string(n)
}

// logBuffer is a concurrency-safe io.Writer for slog handlers.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// discardLogger keeps the expected Error lines of misconfiguration tests out of
// the test output.
var discardLogger = slog.New(slog.DiscardHandler)

// junkJWT returns the n-th of a flood of distinct well-formed JWTs with a
// made-up kid and signature: each is a cache miss that needs the JWKS.
func junkJWT(n int) string {
	enc := base64.RawURLEncoding.EncodeToString
	hdr := fmt.Sprintf(`{"alg":"RS256","typ":"JWT","kid":"ins_junk%d","cat":%q}`, n%3, verifier.JWTCategory)
	payload := fmt.Sprintf(`{"sub":"mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk","jti":"mt_junk%d","n":%d}`, n, n)
	return enc([]byte(hdr)) + "." + enc([]byte(payload)) + "." + enc(make([]byte, 256))
}

// fakeClerk is an http.RoundTripper that answers verify calls in memory, so
// that a Verifier runs inside a testing/synctest bubble (real connections
// would not let fake time advance). Each call gets the answer of the current
// mode; with hold set, it blocks until that channel is closed. A call keeps
// the hold it arrived under, so a test lets calls go one at a time by setting
// a new hold before closing the old one.
type fakeClerk struct {
	mu    sync.Mutex
	mode  string // "ok", "unknown" (Clerk's 404) or "down" (503)
	hold  chan struct{}
	calls int
}

func (f *fakeClerk) set(mode string, hold chan struct{}) {
	f.mu.Lock()
	f.mode, f.hold = mode, hold
	f.mu.Unlock()
}

func (f *fakeClerk) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeClerk) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.calls++
	mode, hold := f.mode, f.hold
	f.mu.Unlock()
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	status, body := http.StatusOK, `{"object":"machine_to_machine_token","id":"mt_0123456789abcdef0123456789abcdef","subject":"mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk","scopes":[],"claims":null,"revoked":false,"revocation_reason":null,"expired":false,"expiration":null,"last_used_at":null,"created_at":1716883200000,"updated_at":1716883200000}`
	switch mode {
	case "unknown":
		status, body = http.StatusNotFound, `{"errors":[{"message":"not found","long_message":"Machine token not found","code":"resource_not_found"}]}`
	case "down":
		status, body = http.StatusServiceUnavailable, `{"errors":[{"message":"unavailable","code":"service_unavailable"}]}`
	}
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    r,
	}, nil
}

func newFakeVerifier(t *testing.T, f *fakeClerk, opts ...verifier.Option) *verifier.Verifier {
	t.Helper()
	base := []verifier.Option{verifier.WithBaseURL("https://clerk.invalid/v1"), verifier.WithHTTPClient(&http.Client{Transport: f})}
	v, err := verifier.New("sk_test_"+strings.Repeat("b", 40), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
