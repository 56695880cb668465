package clerktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// watchdog bounds how long a test waits for something that must happen; it
// never decides an outcome, it only turns a hang into a failure.
const watchdog = 10 * time.Second

// await fails the test unless ch is ready within the watchdog.
func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(watchdog):
		t.Fatalf("gave up waiting: %s", what)
	}
}

// front serves srv's handler on its own httptest server and reports every
// request that entered srv's handler and every one that returned from it.
func front(t *testing.T, srv *clerktest.Server) (url string, entered, returned <-chan struct{}) {
	t.Helper()
	in, out := make(chan struct{}, 16), make(chan struct{}, 16)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in <- struct{}{}
		defer func() { out <- struct{}{} }()
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/v1", in, out
}

// post sends body to path below base with key and returns the status.
func post(ctx context.Context, base, key, path string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestGateHoldsUntilRelease(t *testing.T) {
	f := testkit.NewFixture(t)
	tok, err := f.Srv.CreateToken(f.Caller.ID, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	gate := clerktest.NewGate()
	f.Srv.InjectOn(clerktest.EndpointVerify, gate)
	body, _ := json.Marshal(map[string]string{"token": tok.Token})

	const n = 3
	statuses := make(chan int, n)
	for range n {
		go func() {
			code, err := post(context.Background(), f.Srv.URL, f.Receiver.SecretKey, "/m2m_tokens/verify", body)
			if err != nil {
				t.Errorf("verify: %v", err)
			}
			statuses <- code
		}()
	}
	await(t, gate.Arrived(n), "three verify requests at the gate")
	select {
	case code := <-statuses:
		t.Fatalf("got an answer (%d) from a closed gate, want none before Release", code)
	default:
	}
	if got := gate.Count(); got != n {
		t.Errorf("got Count %d, want %d", got, n)
	}
	gate.Release()
	for range n {
		if code := <-statuses; code != http.StatusOK {
			t.Errorf("after Release: got %d, want 200 (the held body read by verify)", code)
		}
	}
	// Once released, requests pass through and are still counted.
	if code, err := post(context.Background(), f.Srv.URL, f.Receiver.SecretKey, "/m2m_tokens/verify", body); err != nil || code != 200 {
		t.Errorf("after Release: got %d, %v; want 200", code, err)
	}
	await(t, gate.Arrived(n+1), "a fourth arrival")
	gate.Release() // twice is fine
	huge := []byte(`{"token":"` + strings.Repeat("x", 2<<20) + `"}`)
	if code, err := post(context.Background(), f.Srv.URL, f.Receiver.SecretKey, "/m2m_tokens/verify", huge); err != nil || code != http.StatusRequestEntityTooLarge {
		t.Errorf("body over 1 MiB: got %d, %v; want 413 after the gate", code, err)
	}
	if got := f.Srv.Calls(clerktest.EndpointVerify); got != n+2 {
		t.Errorf("got %d verify calls, want %d", got, n+2)
	}
}

// TestHeldRequestEndsWhenClientGivesUp checks that a request held by Hang, a
// Gate or Latency is let go as soon as its client gives up — for a POST with a
// body too — instead of holding a goroutine and a connection until Close.
func TestHeldRequestEndsWhenClientGivesUp(t *testing.T) {
	verifyBody := []byte(`{"token":"mt_0123456789abcdefghijklmnopqrstuv"}`)
	huge := []byte(`{"token":"` + strings.Repeat("x", 2<<20) + `"}`)
	for _, tc := range []struct {
		name   string
		fault  func() (clerktest.Fault, *clerktest.Gate) // the gate, when the fault has one
		method string
		path   string
		body   []byte
	}{
		{"hang GET", hang, "GET", "/jwks", nil},
		{"hang POST with a body", hang, "POST", "/m2m_tokens/verify", verifyBody},
		{"hang POST with a body over 1 MiB", hang, "POST", "/m2m_tokens/verify", huge},
		{"gate POST with a body", func() (clerktest.Fault, *clerktest.Gate) { g := clerktest.NewGate(); return g, g }, "POST", "/m2m_tokens/verify", verifyBody},
		{"latency GET", latencyHour, "GET", "/jwks", nil},
		{"latency POST with a body", latencyHour, "POST", "/m2m_tokens/verify", verifyBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := clerktest.NewServer()
			defer srv.Close()
			fault, gate := tc.fault()
			srv.Inject(fault)
			base, entered, returned := front(t, srv)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				var body io.Reader
				if tc.body != nil {
					body = bytes.NewReader(tc.body)
				}
				req, err := http.NewRequestWithContext(ctx, tc.method, base+tc.path, body)
				if err != nil {
					errc <- err
					return
				}
				req.Header.Set("Authorization", "Bearer "+srv.SecretKey)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			await(t, entered, "the request at the emulator")
			if gate != nil {
				await(t, gate.Arrived(1), "the request held at the gate")
			}
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("client: got %v, want context.Canceled", err)
			}
			await(t, returned, "the emulator's handler to return after the client gave up")
		})
	}
}

func hang() (clerktest.Fault, *clerktest.Gate) { g := clerktest.Hang(); return g, g }

func latencyHour() (clerktest.Fault, *clerktest.Gate) { return clerktest.Latency(time.Hour), nil }
