package conformance_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
)

// TestClientGone: when the request's context ends while Clerk hangs, every
// adapter stops waiting and records 499, not a 503 blaming Clerk nor a 401.
func TestClientGone(t *testing.T) {
	f := newFixture(t)
	f.clerk.InjectOn(clerktest.EndpointVerify, clerktest.Hang())
	t.Cleanup(f.clerk.Close) // first: releases the hung verify calls before the verifier closes
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
			var body middleware.ErrorBody
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != middleware.StatusClientClosedRequest || body.Error != middleware.CodeClientClosedRequest {
				t.Fatalf("got %d %+v, want 499 client_closed_request", w.Code, body)
			}
			if got := w.Header().Get("Retry-After") + w.Header().Get("WWW-Authenticate"); got != "" {
				t.Errorf("got Retry-After/WWW-Authenticate %q, want none", got)
			}
		})
	}
}
