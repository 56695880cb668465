package m2mclient_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/m2mclient"
)

func TestTokenSource_CachedTokenDoesNotAllocate(t *testing.T) {
	f := newFixture(t)
	ts := f.source(t)
	ctx := context.Background()
	mustToken(t, ts)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := ts.Token(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Token on a live cached token: %v allocations, want 0", allocs)
	}
}

func BenchmarkTokenSource_Token_Cached(b *testing.B) {
	f := newFixtureOn(b, nil, time.Now) // real time: the token outlives the run
	ts, err := m2mclient.NewTokenSource(f.caller.SecretKey, m2mclient.WithBaseURL(f.srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ts.Token(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ts.Token(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if st := ts.Stats(); st.Creates != 1 {
		b.Errorf("Stats().Creates = %d, want 1", st.Creates)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	f := newFixtureOn(b, nil, time.Now)
	ts, err := m2mclient.NewTokenSource(f.caller.SecretKey, m2mclient.WithBaseURL(f.srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	svc := newServer(b, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	for _, bc := range []struct {
		name string
		rt   func(base http.RoundTripper) http.RoundTripper
	}{
		{"bare", func(base http.RoundTripper) http.RoundTripper { return base }},
		{"m2mclient.Transport", func(base http.RoundTripper) http.RoundTripper {
			return &m2mclient.Transport{Source: ts, Base: base}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			base := &http.Transport{MaxIdleConnsPerHost: 64}
			defer base.CloseIdleConnections()
			rt := bc.rt(base)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, svc.URL, nil)
					resp, err := rt.RoundTrip(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}
