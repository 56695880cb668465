package m2mclient_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/m2mclient"
	"github.com/m2mauth/m2mauth/verifier"
)

// Revoking a token through the admin helpers and telling the service's
// verifier (InvalidateID) makes the very next request with it fail; the
// Transport then recovers with a new token.
func TestRevoke_VerifierInvalidateID(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ts := f.source(t)
	v := f.newVerifier(t)
	svc := newCallee(t, f.verifierFunc(v))
	client := m2mclient.NewClient(ts, nil)

	if got := get(t, client, svc.URL); got != http.StatusOK {
		t.Fatalf("first request: status %d, want 200", got)
	}
	old := mustToken(t, ts) // now in the verifier's cache

	// The caller machine's own key may revoke its own tokens.
	revoked, err := ts.API().RevokeAll(ctx, clerkapi.ListParams{Subject: old.Subject}, "compromised")
	if err != nil {
		t.Fatalf("RevokeAll: %v", err)
	}
	if len(revoked) != 1 || revoked[0].ID != old.ID {
		t.Fatalf("RevokeAll revoked %d tokens, want exactly %s", len(revoked), old.ID)
	}
	verifyCalls := f.srv.Calls(clerktest.EndpointVerify)
	if _, err := v.Verify(ctx, old.Value); err != nil {
		t.Fatalf("before InvalidateID: Verify = %v, want the cached success (this is why InvalidateID exists)", err)
	}
	if got := f.srv.Calls(clerktest.EndpointVerify); got != verifyCalls {
		t.Fatalf("cached Verify called Clerk (%d → %d calls)", verifyCalls, got)
	}

	v.InvalidateID(old.ID)
	if _, err := v.Verify(ctx, old.Value); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatalf("right after InvalidateID: Verify = %v, want ErrInvalidToken", err)
	}

	// The Transport sees 401 invalid_token, gets a new token and retries.
	hitsBefore, _ := svc.stats()
	if got := get(t, client, svc.URL); got != http.StatusOK {
		t.Fatalf("request after revocation: status %d, want 200 after one refresh", got)
	}
	hits, distinct := svc.stats()
	if hits-hitsBefore != 2 || distinct != 2 {
		t.Errorf("callee saw %d requests and %d distinct tokens in all, want 2 more requests and 2 tokens", hits-hitsBefore, distinct)
	}
	if st := ts.Stats(); st.Creates != 2 || st.Invalidations != 1 {
		t.Errorf("Stats() = %+v, want 2 creates, 1 invalidation", st)
	}
}
