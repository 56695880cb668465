package m2mprom_test

import (
	"context"
	"testing"
)

// BenchmarkVerifyHitObserved: a cache hit with the Observer and the
// Collector attached: nothing is observed, nothing allocated.
func BenchmarkVerifyHitObserved(b *testing.B) {
	e := newEnv(b, secretKey)
	tok := e.token(b)
	ctx := context.Background()
	if _, err := e.v.Verify(ctx, tok, ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.v.Verify(ctx, tok, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScrape: one Gather of the registry (Stats read once, every series).
func BenchmarkScrape(b *testing.B) {
	e := newEnv(b, secretKey)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
