package clerktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// TestConcurrentUse hammers every endpoint, the Go set-up API, the counters and
// fault injection at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	const workers, rounds = 8, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	var created int
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				tok, err := f.asCaller.CreateToken(ctx, clerkapi.CreateParams{MinRemainingTTLSeconds: clerkapi.Int64(int64(i % 3 * 100))})
				if err != nil {
					t.Errorf("create: %v", err)
					return
				}
				mu.Lock()
				created++
				mu.Unlock()
				if _, err := f.asRecv.VerifyToken(ctx, tok.Token); err != nil && statusOf(err) != 404 {
					t.Errorf("verify: %v", err) // 404 when another worker revoked it
				}
				if _, err := f.admin.ListTokens(ctx, clerkapi.ListParams{Subject: f.caller.ID, Limit: 5}); err != nil {
					t.Errorf("list: %v", err)
				}
				if w%2 == 0 {
					f.admin.RevokeToken(ctx, tok.ID, "")
				}
				f.srv.Calls(clerktest.EndpointVerify)
			}
		})
	}
	wg.Go(func() {
		for range rounds {
			m := f.srv.CreateMachine("side")
			f.srv.AddScope(m.ID, f.receiver.ID)
			f.srv.RemoveScope(m.ID, f.receiver.ID)
			open := clerktest.NewGate() // a fault the workers' list calls pass through
			open.Release()
			f.srv.InjectOn(clerktest.EndpointList, open)
			f.srv.ClearFaults()
			f.clock.Advance(time.Second)
		}
	})
	wg.Wait()
	if got := f.srv.Calls(clerktest.EndpointCreate); got != int64(workers*rounds) {
		t.Errorf("got %d create calls, want %d", got, workers*rounds)
	}
	if created != workers*rounds {
		t.Errorf("got %d tokens, want %d", created, workers*rounds)
	}
}
