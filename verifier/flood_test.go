package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestGarbageFlood: 100,000 distinct strings that cannot be M2M tokens make no
// call to Clerk and leave no cache entry.
func TestGarbageFlood(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithCacheSize(100))
	shapes := []string{"garbage-%d", "mt_%d", "%d.%d", "mt_%032d ", "Bearer %d", "a.b.c.%d", "mt_%030d\x00"}
	for i := range 100_000 {
		g := fmt.Sprintf(shapes[i%len(shapes)], i, i)
		if _, err := v.Verify(context.Background(), g, ""); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Fatalf("Verify(%q) = %v, want ErrInvalidToken", g, err)
		}
	}
	if got := e.verifyCalls(); got != 0 {
		t.Errorf("got %d verify calls, want 0", got)
	}
	if st := v.Stats(); st.CacheEntries != 0 || st.Invalid != 100_000 {
		t.Errorf("got %d cache entries and %d invalid, want 0 and 100000", st.CacheEntries, st.Invalid)
	}
}

// TestUnknownTokenFlood: well-formed but unknown tokens go to Clerk once each
// and are cached negatively, within the cache's bound; a valid token keeps
// working throughout.
func TestUnknownTokenFlood(t *testing.T) {
	const size, n = 50, 400
	e := newEnv(t)
	v := e.verifier(verifier.WithCacheSize(size), verifier.WithLimits(verifier.Limits{CallRate: -1})) // n misses on a frozen clock
	valid := e.token(clerkapi.CreateParams{})
	for i := range n {
		if _, err := v.Verify(context.Background(), unknownToken(i+1), ""); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Fatalf("Verify(unknown %d) = %v, want ErrInvalidToken", i, err)
		}
		if _, err := v.Verify(context.Background(), valid, ""); err != nil {
			t.Fatalf("Verify(valid) during the flood: %v", err)
		}
	}
	st := v.Stats()
	if st.CacheEntries > size {
		t.Errorf("got %d cache entries, want at most %d", st.CacheEntries, size)
	}
	if calls := e.verifyCalls(); calls < n || calls > n+n/4 {
		t.Errorf("got %d verify calls for %d unknown tokens, want about %d (the valid one stays hot)", calls, n, n)
	}
}

// TestHitDoesNotAllocate pins the hot path: a cache hit makes no allocation,
// and neither does a garbage token.
func TestHitDoesNotAllocate(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	ctx := context.Background()
	for _, tc := range []struct {
		name, token string
	}{
		{"opaque hit", e.token(clerkapi.CreateParams{})},
		{"JWT hit", e.token(clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})},
		{"negative hit", unknownToken(9)},
		{"garbage", "not a token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _ = v.Verify(ctx, tc.token, "") // fill the cache
			if n := testing.AllocsPerRun(1000, func() { _, _ = v.Verify(ctx, tc.token, "") }); n != 0 {
				t.Errorf("got %v allocations per Verify, want 0", n)
			}
		})
	}
}
