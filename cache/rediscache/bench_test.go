package rediscache_test

import (
	"context"
	"testing"

	"github.com/m2mauth/m2mauth/verifier"
)

// BenchmarkL2Hit is a Verify answered from Redis (loopback): the replica's
// own cache holds too few entries for the tokens cycled through, so every
// call misses it, reads the shared entry, checks its MAC and copies it in.
// Compare with verifier's BenchmarkVerifyHit (L1).
func BenchmarkL2Hit(b *testing.B) {
	c := newCluster(b)
	writer, _ := c.replica()
	reader, _ := c.replica(verifier.WithCacheSize(2))
	subscribed(b, reader)
	toks := make([]string, 64)
	for i := range toks {
		toks[i] = c.token().Token
		if _, err := writer.Verify(context.Background(), toks[i], ""); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	before := reader.Stats().SharedHits
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := reader.Verify(ctx, toks[i%len(toks)], ""); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	n := reader.Stats().SharedHits - before
	b.ReportMetric(float64(n)/float64(b.N), "L2hits/op")
}
