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
	if _, err := v.Verify(ctx, old.Value, ""); err != nil {
		t.Fatalf("before InvalidateID: Verify = %v, want the cached success (this is why InvalidateID exists)", err)
	}
	if got := f.srv.Calls(clerktest.EndpointVerify); got != verifyCalls {
		t.Fatalf("cached Verify called Clerk (%d → %d calls)", verifyCalls, got)
	}

	v.InvalidateID(old.ID)
	if _, err := v.Verify(ctx, old.Value, ""); !errors.Is(err, verifier.ErrInvalidToken) {
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

// Revoke and RevokeAll revoke at Clerk and make the verifier refuse the
// token at once, in one call; a refused revocation forgets nothing.
func TestRevokeForgets(t *testing.T) {
	tests := []struct {
		name   string
		revoke func(ctx context.Context, api *clerkapi.Client, id, subject string, v *verifier.Verifier) error
	}{
		{"Revoke", func(ctx context.Context, api *clerkapi.Client, id, _ string, v *verifier.Verifier) error {
			m, err := m2mclient.Revoke(ctx, api, id, "compromised", v)
			if err == nil && m.ID != id {
				t.Errorf("revoked %s, want %s", m.ID, id)
			}
			return err
		}},
		{"RevokeAll", func(ctx context.Context, api *clerkapi.Client, id, subject string, v *verifier.Verifier) error {
			ms, err := m2mclient.RevokeAll(ctx, api, clerkapi.ListParams{Subject: subject}, "compromised", v)
			if err == nil && (len(ms) != 1 || ms[0].ID != id) {
				t.Errorf("revoked %d tokens, want exactly %s", len(ms), id)
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t)
			ts := f.source(t)
			v := f.newVerifier(t)
			tok := mustToken(t, ts)
			if _, err := v.Verify(ctx, tok.Value, ""); err != nil {
				t.Fatalf("before: %v", err)
			}
			if err := tt.revoke(ctx, ts.API(), tok.ID, tok.Subject, v); err != nil {
				t.Fatalf("revoke: %v", err)
			}
			if _, err := v.Verify(ctx, tok.Value, ""); !errors.Is(err, verifier.ErrInvalidToken) {
				t.Fatalf("right after: got %v, want ErrInvalidToken", err)
			}
		})
	}
	t.Run("refused by Clerk", func(t *testing.T) {
		ctx := context.Background()
		f := newFixture(t)
		ts := f.source(t)
		v := f.newVerifier(t)
		tok := mustToken(t, ts)
		if _, err := v.Verify(ctx, tok.Value, ""); err != nil {
			t.Fatal(err)
		}
		f.srv.InjectOn(clerktest.EndpointRevoke, clerktest.FailNext(1, http.StatusInternalServerError))
		if _, err := m2mclient.Revoke(ctx, ts.API(), tok.ID, "", v); err == nil {
			t.Fatal("got no error, want Clerk's 500")
		}
		calls := f.srv.Calls(clerktest.EndpointVerify)
		if _, err := v.Verify(ctx, tok.Value, ""); err != nil {
			t.Fatalf("after a refused revocation: got %v, want the cached token", err)
		}
		if got := f.srv.Calls(clerktest.EndpointVerify); got != calls {
			t.Errorf("verify calls: got %d, want %d (nothing forgotten)", got, calls)
		}
	})
}
