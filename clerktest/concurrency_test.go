package clerktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// TestConcurrentUse hammers every endpoint, the Go set-up API, the counters and
// fault injection at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	f := testkit.NewFixture(t)
	ctx := t.Context()
	const workers, rounds = 8, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	var created int
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				tok, err := f.AsCaller.CreateToken(ctx, clerkapi.CreateParams{MinRemainingTTLSeconds: clerkapi.Int64(int64(i % 3 * 100))})
				if err != nil {
					t.Errorf("create: %v", err)
					return
				}
				mu.Lock()
				created++
				mu.Unlock()
				if _, err := f.AsRecv.VerifyToken(ctx, tok.Token); err != nil && statusOf(err) != 404 {
					t.Errorf("verify: %v", err) // 404 when another worker revoked it
				}
				if _, err := f.Admin.ListTokens(ctx, clerkapi.ListParams{Subject: f.Caller.ID, Limit: 5}); err != nil {
					t.Errorf("list: %v", err)
				}
				if w%2 == 0 {
					f.Admin.RevokeToken(ctx, tok.ID, "")
				}
				f.Srv.Calls(clerktest.EndpointVerify)
			}
		})
	}
	wg.Go(func() {
		for range rounds {
			m := f.Srv.CreateMachine("side")
			f.Srv.AddScope(m.ID, f.Receiver.ID)
			f.Srv.RemoveScope(m.ID, f.Receiver.ID)
			open := clerktest.NewGate() // a fault the workers' list calls pass through
			open.Release()
			f.Srv.InjectOn(clerktest.EndpointList, open)
			f.Srv.ClearFaults()
			f.Clock.Advance(time.Second)
		}
	})
	wg.Wait()
	if got := f.Srv.Calls(clerktest.EndpointCreate); got != int64(workers*rounds) {
		t.Errorf("got %d create calls, want %d", got, workers*rounds)
	}
	if created != workers*rounds {
		t.Errorf("got %d tokens, want %d", created, workers*rounds)
	}
}

// TestConcurrentMachineCredentials does the same for API keys and OAuth
// access tokens: creation and revocation through Go, verification over HTTP,
// the clock and faults moving underneath; run with -race.
func TestConcurrentMachineCredentials(t *testing.T) {
	f := testkit.NewFixture(t)
	ctx := t.Context()
	app := f.Srv.CreateOAuthApplication("agent")
	const workers, rounds = 8, 15
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				key, err := f.Srv.CreateAPIKey(clerktest.APIKeyParams{Name: "concurrent", Subject: userID, TTL: time.Hour})
				if err != nil {
					t.Errorf("create API key: %v", err)
					return
				}
				format := clerkapi.FormatOpaque
				if i%2 == 1 {
					format = clerkapi.FormatJWT
				}
				oat, err := f.Srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: userID, ClientID: app.ClientID, Format: format, TTL: time.Hour})
				if err != nil {
					t.Errorf("create OAuth token: %v", err)
					return
				}
				if _, err := f.Admin.VerifyAPIKey(ctx, key.Secret); err != nil {
					t.Errorf("verify API key: %v", err)
				}
				if v, err := f.Admin.VerifyOAuthAccessToken(ctx, oat); err != nil || v.Inactive {
					t.Errorf("verify OAuth token: %+v, %v", v, err)
				}
				if w%2 == 0 {
					f.Srv.RevokeAPIKey(key.ID, "")
					if format == clerkapi.FormatOpaque {
						f.Srv.RevokeOAuthAccessToken(oat)
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range rounds {
			f.Srv.CreateOAuthApplication("side")
			open := clerktest.NewGate()
			open.Release()
			f.Srv.InjectOn(clerktest.EndpointOAuthVerify, open)
			f.Srv.ClearFaults()
			f.Clock.Advance(time.Second)
		}
	})
	wg.Wait()
	for _, e := range []clerktest.Endpoint{clerktest.EndpointAPIKeyVerify, clerktest.EndpointOAuthVerify} {
		if got := f.Srv.Calls(e); got != int64(workers*rounds) {
			t.Errorf("Calls(%s): got %d, want %d", e, got, workers*rounds)
		}
	}
}
