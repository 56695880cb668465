package verifier

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// TestMemoryPerToken measures the heap a full verifier cache holds per
// verified token: the cache entry plus the Token with its strings (ID, subject,
// one scope, no claims), as after a JSON decode. The figure in doc.go comes
// from this test (go test -run MemoryPerToken -v ./verifier).
func TestMemoryPerToken(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100k tokens")
	}
	const n = 100_000
	t0 := time.Date(2026, 5, 12, 0, 0, 0, 0, time.UTC)
	v, err := New("sk_test_"+"0123456789abcdef0123", WithCacheSize(2*n), WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		tok := fmt.Sprintf("mt_%032d", i)
		m := &clerkapi.M2MToken{
			Object:     clerkapi.ObjectM2MToken,
			ID:         fmt.Sprintf("mt_%032x", i),
			Subject:    fmt.Sprintf("mch_%027d", i),
			Scopes:     []string{fmt.Sprintf("mch_%027d", i+1)},
			Expiration: clerkapi.At(t0.Add(time.Hour)),
			CreatedAt:  clerkapi.At(t0),
		}
		d := v.judge(answer{tok: newToken(m, tok)}, KindM2M)
		if d.tok == nil {
			t.Fatal(d.result())
		}
		v.store(sha256.Sum256([]byte(tok)), d, t0, nil)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := v.cache.Len(); got != n {
		t.Fatalf("got %d entries, want %d", got, n)
	}
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per cached token (%d tokens)", perEntry, n)
	if perEntry > 1200 {
		t.Errorf("got %.0f bytes per cached token, want at most 1200", perEntry)
	}
}
