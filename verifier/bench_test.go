package verifier_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/verifier"
)

// BenchmarkVerifyHit is the hot path: a token already in the cache.
func BenchmarkVerifyHit(b *testing.B) {
	e := newRealTimeEnv(b)
	v := e.verifier()
	tok := e.token(clerkapi.CreateParams{})
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok, ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloor is the least a cached lookup can cost: SHA-256 of the same
// token and one Get on a plain golang-lru cache.
func BenchmarkFloor(b *testing.B) {
	e := newRealTimeEnv(b)
	tok := []byte(e.token(clerkapi.CreateParams{}))
	c, err := lru.New[[32]byte, *verifier.Token](10_000)
	if err != nil {
		b.Fatal(err)
	}
	c.Add(sha256.Sum256(tok), &verifier.Token{})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Get(sha256.Sum256(tok)); !ok {
			b.Fatal("miss")
		}
	}
}

// BenchmarkFloorAndClock is BenchmarkFloor plus the one clock read a hit
// needs for its expiry checks (time.Now), to show what the clock costs here.
func BenchmarkFloorAndClock(b *testing.B) {
	e := newRealTimeEnv(b)
	tok := []byte(e.token(clerkapi.CreateParams{}))
	c, err := lru.New[[32]byte, *verifier.Token](10_000)
	if err != nil {
		b.Fatal(err)
	}
	c.Add(sha256.Sum256(tok), &verifier.Token{})
	expires := time.Now().Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Get(sha256.Sum256(tok)); !ok || !time.Now().Before(expires) {
			b.Fatal("miss")
		}
	}
}

// BenchmarkVerifyHitParallel: hits from GOMAXPROCS goroutines, each with its
// own token (one per calling machine: hits on different cache shards), and all
// on one token; with the real clock (time.Now) and with a clock that costs
// nothing (WithClock of a fixed time), which isolates the verifier's own
// scaling from the machine's clock (see BenchmarkClockParallel).
func BenchmarkVerifyHitParallel(b *testing.B) {
	e := newRealTimeEnv(b)
	fixed := time.Now()
	verifiers := map[string]*verifier.Verifier{
		"clock=real":  e.verifier(),
		"clock=fixed": e.verifier(verifier.WithClock(func() time.Time { return fixed })),
	}
	ctx := context.Background()
	// 16 tokens whose hashes start with distinct low nibbles: with the
	// cache's default 16 or more shards (picked from the hash's first bytes),
	// each lands in its own shard, as tokens of different machines mostly do.
	var tokens []string
	seen := map[byte]bool{}
	for len(tokens) < 16 {
		tok := e.token(clerkapi.CreateParams{})
		if h := sha256.Sum256([]byte(tok)); !seen[h[0]&15] {
			seen[h[0]&15] = true
			tokens = append(tokens, tok)
		}
	}
	for _, v := range verifiers {
		for _, tok := range tokens {
			if _, err := v.Verify(ctx, tok, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, clock := range []string{"clock=real", "clock=fixed"} {
		v := verifiers[clock]
		for _, bc := range []struct {
			name string
			own  bool
		}{{"own-token", true}, {"same-token", false}} {
			b.Run(clock+"/"+bc.name, func(b *testing.B) {
				var next atomic.Int64
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					tok := tokens[0]
					if bc.own {
						tok = tokens[next.Add(1)%int64(len(tokens))]
					}
					for pb.Next() {
						if _, err := v.Verify(ctx, tok, ""); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkClockParallel is a control: one monotonic clock read (what a hit
// costs in clock) from GOMAXPROCS goroutines. On some virtual machines
// (kvm-clock without a stable TSC) clock reads do not scale with cores.
func BenchmarkClockParallel(b *testing.B) {
	base := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var d time.Duration
		for pb.Next() {
			d += time.Since(base)
		}
		_ = d
	})
}

// BenchmarkVerifyMiss: every iteration forgets the token and asks the emulator.
func BenchmarkVerifyMiss(b *testing.B) {
	e := newRealTimeEnv(b)
	v := e.verifier(verifier.WithLimits(verifier.Limits{CallRate: -1})) // measure the miss, not the budget
	tok := e.token(clerkapi.CreateParams{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v.Invalidate(tok)
		if _, err := v.Verify(ctx, tok, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(e.verifyCalls())/float64(b.N), "calls/op")
}

// BenchmarkColdToken: N goroutines verify one fresh token at once; whatever N,
// it costs one call to Clerk (calls/key).
func BenchmarkColdToken(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprint("goroutines=", n), func(b *testing.B) {
			e := newRealTimeEnv(b)
			v := e.verifier(verifier.WithLimits(verifier.Limits{CallRate: -1})) // one call per iteration, as fast as it goes
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				tok := e.token(clerkapi.CreateParams{})
				var wg sync.WaitGroup
				start := make(chan struct{})
				for range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						if _, err := v.Verify(ctx, tok, ""); err != nil {
							b.Error(err)
						}
					}()
				}
				b.StartTimer()
				close(start)
				wg.Wait()
			}
			perKey := float64(e.verifyCalls()) / float64(b.N)
			b.ReportMetric(perKey, "calls/key")
			if perKey != 1 {
				b.Errorf("got %.3f verify calls per cold token, want 1", perKey)
			}
		})
	}
}

// BenchmarkHashParallel is a control for BenchmarkVerifyHitParallel: SHA-256
// of a token alone, no shared state. Its -cpu=2 / -cpu=1 ratio is the best any
// parallel hit path can reach on the machine at hand.
func BenchmarkHashParallel(b *testing.B) {
	tok := []byte("mt_" + strings.Repeat("a", 32))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var x byte
		for pb.Next() {
			h := sha256.Sum256(tok)
			x ^= h[0]
		}
		_ = x
	})
}

// BenchmarkVerifyRefused is what each request of a flood costs once the
// overall budget is spent: a well-formed token not in the cache, from a
// source whose turn has not come, refused by admission without a call
// (syntax check, hash, cache miss, admission, the error).
func BenchmarkVerifyRefused(b *testing.B) {
	e := newRealTimeEnv(b)
	v := e.verifier(verifier.WithLimits(verifier.Limits{CallRate: 1e-9, CallBurst: 2, SourceRate: -1}))
	ctx := context.Background()
	for i := range 2 { // spend the budget
		_, _ = v.Verify(ctx, unknownToken(i+1), "198.51.100.1")
	}
	toks := make([]string, 4096)
	for i := range toks {
		toks[i] = unknownToken(i + 100)
	}
	for _, par := range []bool{false, true} {
		name := "serial"
		if par {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			var next atomic.Int64
			verify := func(i int64) {
				if _, err := v.Verify(ctx, toks[i%int64(len(toks))], "203.0.113.1"); !errors.Is(err, verifier.ErrUnavailable) {
					b.Fatalf("got %v, want ErrUnavailable", err)
				}
			}
			b.ReportAllocs()
			if !par {
				for b.Loop() {
					verify(next.Add(1))
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					verify(next.Add(1))
				}
			})
		})
	}
	if calls := e.verifyCalls(); calls != 2 {
		b.Errorf("got %d calls to Clerk, want 2", calls)
	}
}
