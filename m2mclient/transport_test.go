package m2mclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/m2mclient"
)

func TestTransport_OneTokenPerLifetime(t *testing.T) {
	f := newFixture(t)
	ts := f.source(t, m2mclient.WithLifetime(time.Hour)) // default margin: 5 min
	svc := newCallee(t, f.verifierFunc(f.newVerifier(t)))
	// The callee's handler is called in-process, without sockets, to keep
	// 10,000 requests fast; everything else is the real Transport.
	client := m2mclient.NewClient(ts, handlerTransport{http.HandlerFunc(svc.serve)})

	// 10,000 requests from 10 goroutines while the clock moves 50 minutes.
	const workers, perWorker = 10, 1000
	step := 50 * time.Minute / (workers * perWorker)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range perWorker {
				resp, err := client.Get(svc.URL)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- errors.New(resp.Status)
					return
				}
				f.clock.Advance(step)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("request failed: %v", err)
	}
	hits, distinct := svc.stats()
	if hits != workers*perWorker || distinct != 1 {
		t.Errorf("callee got %d requests with %d distinct tokens, want %d with 1", hits, distinct, workers*perWorker)
	}
	if got := f.srv.Calls(clerktest.EndpointCreate); got != 1 {
		t.Errorf("create calls over one lifetime = %d, want 1", got)
	}
	first, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// Past lifetime − margin (55 min): one more create, the old token still valid.
	f.clock.Set(t0.Add(55*time.Minute + time.Second))
	if got := get(t, client, svc.URL); got != http.StatusOK {
		t.Fatalf("status after refresh boundary = %d, want 200", got)
	}
	if got := f.srv.Calls(clerktest.EndpointCreate); got != 2 {
		t.Errorf("create calls across the refresh boundary = %d, want 2", got)
	}
	if err := f.verifyAtClerk(t, first.Value); err != nil {
		t.Errorf("old token after refresh: verify error %v, want still valid", err)
	}
	if st := ts.Stats(); st.Creates != 2 || st.Refreshes != 1 || st.Failures != 0 {
		t.Errorf("Stats() = %+v, want 2 creates, 1 refresh, 0 failures", st)
	}
}

// nonReplayable hides a reader's type so http.NewRequest sets no GetBody.
type nonReplayable struct{ io.Reader }

func TestTransport_RefusedToken(t *testing.T) {
	for _, tc := range []struct {
		name      string
		method    string
		body      func() io.Reader
		always401 bool
		wantCode  int
		wantHits  int // requests the callee saw for the call under test
		wantBody  string
	}{
		{name: "GET is retried once with a new token", method: http.MethodGet, wantCode: 200, wantHits: 2},
		{name: "POST with replayable body is retried with the same body", method: http.MethodPost,
			body: func() io.Reader { return bytes.NewReader([]byte(`{"n":1}`)) }, wantCode: 200, wantHits: 2, wantBody: `{"n":1}`},
		{name: "POST with non-replayable body is not retried", method: http.MethodPost,
			body: func() io.Reader { return nonReplayable{strings.NewReader(`{"n":2}`)} }, wantCode: 401, wantHits: 1, wantBody: `{"n":2}`},
		{name: "second 401 goes back to the caller", method: http.MethodGet, always401: true, wantCode: 401, wantHits: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ts := f.source(t)
			svc := newCallee(t, f.clerkVerify(t))
			client := m2mclient.NewClient(ts, nil)

			// A first request mints the token; then it is revoked at Clerk.
			if got := get(t, client, svc.URL); got != http.StatusOK {
				t.Fatalf("first request: status %d, want 200", got)
			}
			old, err := ts.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := f.srv.RevokeToken(old.ID, "test"); err != nil {
				t.Fatalf("RevokeToken: %v", err)
			}
			svc.mu.Lock()
			svc.hits, svc.bodies, svc.always401 = 0, nil, tc.always401
			svc.mu.Unlock()

			var body io.Reader
			if tc.body != nil {
				body = tc.body()
			}
			req, err := http.NewRequest(tc.method, svc.URL, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Caller", "kept")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantCode)
			}
			svc.mu.Lock()
			hits, bodies := svc.hits, svc.bodies
			svc.mu.Unlock()
			if hits != tc.wantHits {
				t.Errorf("callee saw %d requests, want %d", hits, tc.wantHits)
			}
			for i, b := range bodies {
				if b != tc.wantBody {
					t.Errorf("body of request %d = %q, want %q", i+1, b, tc.wantBody)
				}
			}
			if got := req.Header.Get("Authorization"); got != "" {
				t.Errorf("caller's request was modified: Authorization %q, want none", got)
			}
			// The refused token is dropped in every case: the next Token is new.
			now, err := ts.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if now.ID == old.ID {
				t.Errorf("after a refusal the source still hands out the revoked token %s", old.ID)
			}
			if got := f.srv.Calls(clerktest.EndpointCreate); got != 2 {
				t.Errorf("create calls = %d, want 2", got)
			}
		})
	}
}

func TestTransport_PassesOtherAnswersThrough(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		challenge string
	}{
		{"401 without error", 401, `Bearer realm="x"`},
		{"401 other scheme", 401, `Basic realm="x"`},
		{"403 insufficient scope", 403, `Bearer error="insufficient_scope"`},
		{"500", 500, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ts := f.source(t)
			var mu sync.Mutex
			hits := 0
			svc := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hits++
				mu.Unlock()
				if tc.challenge != "" {
					w.Header().Set("WWW-Authenticate", tc.challenge)
				}
				w.WriteHeader(tc.status)
			})
			if got := get(t, m2mclient.NewClient(ts, nil), svc.URL); got != tc.status {
				t.Errorf("status = %d, want %d", got, tc.status)
			}
			mu.Lock()
			defer mu.Unlock()
			if hits != 1 {
				t.Errorf("callee saw %d requests, want 1", hits)
			}
			if st := ts.Stats(); st.Creates != 1 || st.Invalidations != 0 {
				t.Errorf("Stats() = %+v, want 1 create, 0 invalidations", st)
			}
		})
	}
}

func TestTransport_TokenErrorClosesBody(t *testing.T) {
	f := newFixture(t)
	f.srv.InjectOn(clerktest.EndpointCreate, clerktest.FailNext(1, http.StatusServiceUnavailable))
	ts := f.source(t)
	body := &closeRecorder{Reader: strings.NewReader("x")}
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", body)
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&m2mclient.Transport{Source: ts}).RoundTrip(req)
	if !isAPIError(err, http.StatusServiceUnavailable) {
		t.Errorf("RoundTrip error = %v, want a wrapped *clerkapi.APIError with status 503", err)
	}
	if !body.closed {
		t.Error("request body not closed after a token error, want closed (RoundTripper contract)")
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestNewClient_Redirects(t *testing.T) {
	f := newFixture(t)
	ts := f.source(t)
	other := newCallee(t, func(context.Context, string) error { return nil })
	svc := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/away":
			http.Redirect(w, r, other.URL+"/final", http.StatusFound)
		default:
			io.WriteString(w, "final")
		}
	})
	client := m2mclient.NewClient(ts, nil)
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/same", http.StatusOK},
		{"/away", http.StatusFound},
	} {
		if got := get(t, client, svc.URL+tc.path); got != tc.want {
			t.Errorf("GET %s: status %d, want %d", tc.path, got, tc.want)
		}
	}
	if hits, _ := other.stats(); hits != 0 {
		t.Errorf("other origin received %d requests, want 0: the token must not follow a cross-origin redirect", hits)
	}
}

func TestTransport_PersistentRefusalDoesNotMintPerRequest(t *testing.T) {
	f := newFixture(t)
	ts := f.source(t)
	svc := newCallee(t, nil)
	svc.always401 = true // e.g. the caller is not in this service's scopes
	client := m2mclient.NewClient(ts, nil)

	for i := range 5 {
		if got := get(t, client, svc.URL); got != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d, want 401", i+1, got)
		}
	}
	hits, _ := svc.stats()
	if got := f.srv.Calls(clerktest.EndpointCreate); got != 2 || hits != 6 {
		t.Errorf("5 refused requests: %d creates and %d callee hits, want 2 creates (first token, one replacement) and 6 hits", got, hits)
	}

	f.clock.Advance(m2mclient.ReplaceCooldown)
	if got := get(t, client, svc.URL); got != http.StatusUnauthorized {
		t.Fatalf("after the cooldown: status %d, want 401", got)
	}
	if got := f.srv.Calls(clerktest.EndpointCreate); got != 3 {
		t.Errorf("after the cooldown: %d creates, want 3 (one more try)", got)
	}
}
