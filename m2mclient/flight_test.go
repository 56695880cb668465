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
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/m2mclient"
)

// heldClerk is an in-process fake of Clerk's create endpoint for tests run in
// a synctest bubble: each create waits until release is closed, then answers
// a fresh one-hour token. Being in-process (no sockets), every goroutine of
// the test is durably blocked while a create is held, so synctest.Wait tells
// the test that all callers have lined up behind it.
type heldClerk struct {
	release chan struct{}
	creates atomic.Int32
}

func newHeldClerk() *heldClerk { return &heldClerk{release: make(chan struct{})} }

func (c *heldClerk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/m2m_tokens") {
		http.Error(w, `{"errors":[{"code":"resource_not_found","message":"not found"}]}`, http.StatusNotFound)
		return
	}
	n := c.creates.Add(1)
	<-c.release
	now := time.Now() // the bubble's clock
	b, _ := json.Marshal(clerkapi.M2MToken{
		Object: clerkapi.ObjectM2MToken, ID: fmt.Sprintf("mt_%032x", n),
		Subject: "mch_" + strings.Repeat("c", 27), Claims: json.RawMessage("null"), Scopes: []string{"mch_" + strings.Repeat("r", 27)},
		Token:      fmt.Sprintf("mt_value%d", n),
		Expiration: clerkapi.At(now.Add(time.Hour)), CreatedAt: clerkapi.At(now), UpdatedAt: clerkapi.At(now),
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	w.Write(b)
}

// source returns a TokenSource that creates its tokens at c, in-process.
func (c *heldClerk) source(t *testing.T) *m2mclient.TokenSource {
	t.Helper()
	ts, err := m2mclient.NewTokenSource("ak_"+strings.Repeat("a", 40),
		m2mclient.WithBaseURL("http://clerk.test/v1"),
		m2mclient.WithHTTPClient(&http.Client{Transport: handlerTransport{c}}))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestTokenSource_WaiterContext checks that a caller whose context ends while
// it waits for the shared create stops waiting, and that the create goes on
// for the other caller.
func TestTokenSource_WaiterContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clerk := newHeldClerk()
		ts := clerk.source(t)

		type result struct {
			tok *m2mclient.Token
			err error
		}
		patient := make(chan result, 1)
		go func() {
			tok, err := ts.Token(context.Background())
			patient <- result{tok, err}
		}()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		impatient := make(chan error, 1)
		go func() {
			_, err := ts.Token(ctx)
			impatient <- err
		}()
		synctest.Wait() // both callers wait for the one create, held at Clerk
		if got := clerk.creates.Load(); got != 1 {
			t.Fatalf("creates with two callers waiting = %d, want 1", got)
		}

		cancel()
		if err := <-impatient; !errors.Is(err, context.Canceled) {
			t.Errorf("impatient caller: error %v, want context.Canceled", err)
		}
		synctest.Wait()
		select {
		case r := <-patient:
			t.Fatalf("patient caller returned (%v, %v) before Clerk answered, want it still waiting", r.tok, r.err)
		default:
		}

		close(clerk.release)
		r := <-patient
		if r.err != nil || r.tok == nil {
			t.Fatalf("patient caller: %v, want a token: one caller giving up must not fail the shared call", r.err)
		}
		if got := clerk.creates.Load(); got != 1 {
			t.Errorf("creates = %d, want 1", got)
		}
	})
}

// TestTransport_ConcurrentFirstRequestsShareOneCreate sends 100 requests at
// once through a Transport whose source has no token yet: all of them wait
// for one create call, then go out with its token.
func TestTransport_ConcurrentFirstRequestsShareOneCreate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clerk := newHeldClerk()
		ts := clerk.source(t)
		var mu sync.Mutex
		seen := map[string]int{} // bearer → requests
		callee := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[r.Header.Get("Authorization")]++
			mu.Unlock()
			io.WriteString(w, "ok")
		})
		client := m2mclient.NewClient(ts, handlerTransport{callee})

		const n = 100
		statuses := make(chan int, n)
		for range n {
			go func() {
				resp, err := client.Get("http://callee.test/")
				if err != nil {
					statuses <- -1
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
		synctest.Wait() // every request waits for the one create, held at Clerk
		if got := clerk.creates.Load(); got != 1 {
			t.Fatalf("creates with %d requests waiting = %d, want 1", n, got)
		}
		if got := len(statuses); got != 0 {
			t.Fatalf("%d requests answered before the token existed, want 0", got)
		}
		close(clerk.release)
		for range n {
			if s := <-statuses; s != http.StatusOK {
				t.Fatalf("a request got status %d, want 200", s)
			}
		}
		if got := clerk.creates.Load(); got != 1 {
			t.Errorf("create calls for %d concurrent first requests = %d, want 1", n, got)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != 1 || seen["Bearer mt_value1"] != n {
			t.Errorf("callee saw %v, want %d requests with the one token", seen, n)
		}
	})
}

// TestTokenSource_CreateOutlivesItsCaller holds the create at the emulator's
// gate, lets its only caller give up, then releases it: the create finishes
// on its own and the next caller gets its token without a second create.
func TestTokenSource_CreateOutlivesItsCaller(t *testing.T) {
	f := newFixture(t)
	gate := clerktest.NewGate()
	f.srv.InjectOn(clerktest.EndpointCreate, gate)
	ts := f.source(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gone := make(chan error, 1)
	go func() {
		_, err := ts.Token(ctx)
		gone <- err
	}()
	<-gate.Arrived(1) // the create is at the emulator, held
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("caller who gave up: error %v, want context.Canceled", err)
	}
	gate.Release()
	tok := mustToken(t, ts)
	if err := f.verifyAtClerk(t, tok.Value); err != nil {
		t.Errorf("token: verify error %v, want valid", err)
	}
	if got := f.srv.Calls(clerktest.EndpointCreate); got != 1 {
		t.Errorf("create calls = %d, want 1 (the held one, finished after its caller left)", got)
	}
}
