package conformance_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
)

// TestClientGone: when the request's context ends while Clerk hangs, every
// adapter stops waiting and records 499, not a 503 blaming Clerk nor a 401,
// with the headers and body of every refusal, the same on every adapter.
// The client is gone, so the answer is read from a recorder rather than
// over the wire.
func TestClientGone(t *testing.T) {
	f := newFixture(t)
	f.clerk.InjectOn(clerktest.EndpointVerify, clerktest.Hang())
	t.Cleanup(f.clerk.Close) // first: releases the hung verify calls before the verifier closes
	got, cts := map[string]answer{}, map[string]string{}
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			h := ad.handler(f.auths["main"])
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/whoami", nil)
			r.Header.Set("Authorization", "Bearer "+f.mint(t, f.caller, 0).Token)
			w := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(w, r)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %v, want the middleware to stop waiting when the request's context ends", took)
			}
			a, err := readAnswer(w.Code, w.Header(), w.Body.Bytes())
			if err != nil {
				t.Fatalf("got %d: %v", w.Code, err)
			}
			got[ad.name], cts[ad.name] = a, w.Header().Get("Content-Type")
			if a.Status != middleware.StatusClientClosedRequest || a.field("error") != middleware.CodeClientClosedRequest {
				t.Fatalf("got %d %s, want 499 client_closed_request", a.Status, a.Body)
			}
			if a.RetryAfter+a.WWW != "" {
				t.Errorf("got Retry-After/WWW-Authenticate %q, want none", a.RetryAfter+a.WWW)
			}
			a.checkRefusal(t)
		})
	}
	checkSame(t, got, cts)
}
