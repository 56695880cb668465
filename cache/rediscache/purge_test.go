package rediscache_test

import (
	"context"
	"errors"
	"testing"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestResubscriptionConfirmsFromRedis: when Redis drops a replica's
// subscription (CLIENT KILL TYPE pubsub, which anyone who can reach Redis may
// send) and it comes back, the replica serves none of the tokens it cached
// before without confirming them: a token still in Redis is confirmed there,
// without a call to Clerk; one whose revocation the replica may have missed
// meanwhile (another replica revoked it, which deletes it in Redis) goes to
// Clerk, which refuses it.
func TestResubscriptionConfirmsFromRedis(t *testing.T) {
	c := newCluster(t)
	a, b := c.pair()
	ctx := context.Background()
	kept, revoked := c.token(), c.token()
	for _, tok := range []string{kept.Token, revoked.Token} {
		if _, err := a.Verify(ctx, tok, "192.0.2.10"); err != nil {
			t.Fatal(err)
		}
	}
	purges := a.Stats().SharedPurges
	if err := c.client().ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.srv.RevokeToken(revoked.ID, "compromised"); err != nil {
		t.Fatal(err)
	}
	b.InvalidateID(revoked.ID) // a may not hear it: its subscription is down
	eventually(t, "a re-subscribed", func() bool { return a.Stats().SharedPurges > purges })

	calls := c.srv.Calls(clerktest.EndpointVerify)
	for range 3 {
		if _, err := a.Verify(ctx, kept.Token, "192.0.2.10"); err != nil {
			t.Errorf("kept token after the re-subscription: %v", err)
		}
	}
	if got := c.srv.Calls(clerktest.EndpointVerify) - calls; got != 0 {
		t.Errorf("kept token: got %d calls to Clerk, want 0 (confirmed by Redis)", got)
	}
	if _, err := a.Verify(ctx, revoked.Token, "192.0.2.10"); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Errorf("revoked token after the re-subscription: got %v, want ErrInvalidToken", err)
	}
	if got := c.srv.Calls(clerktest.EndpointVerify) - calls; got != 1 {
		t.Errorf("got %d calls to Clerk in all, want 1 (the revoked token)", got)
	}
	if st := a.Stats(); st.RateLimited != 0 || st.CacheEntries < 2 {
		t.Errorf("got %d rate limited and %d cache entries, want 0 and at least 2", st.RateLimited, st.CacheEntries)
	}
}
