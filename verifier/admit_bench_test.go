package verifier

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkAdmitMiss is what admission costs a miss, the call aside: check,
// then begin and end, for a source in good standing, a source outside it, a
// refill, and a miss refused by the overall budget (what each request of a
// flood costs once the budget is spent). Serial, and from GOMAXPROCS
// goroutines on as many sources (admission has one mutex).
func BenchmarkAdmitMiss(b *testing.B) {
	ample := Limits{CallRate: 1e9, CallBurst: 1 << 30, SourceRate: 1e9, SourceBurst: 1 << 30, MaxInFlight: -1}
	spent := Limits{CallRate: 1e-9, CallBurst: 2, SourceRate: 1e9, SourceBurst: 1 << 30}
	for _, bc := range []struct {
		name     string
		limits   Limits
		standing bool
		refill   refillKind
		wantErr  bool
	}{
		{"good-standing", ample, true, refillNone, false},
		{"other-source", ample, false, refillNone, false},
		{"refill", ample, false, refillGranted, false},
		{"refused", spent, false, refillNone, true},
	} {
		l, err := bc.limits.resolve()
		if err != nil {
			b.Fatal(err)
		}
		a := newAdmission(l, time.Now)
		sources := make([]string, 64)
		for i := range sources {
			sources[i] = "192.0.2." + strconv.Itoa(i)
			if bc.standing {
				a.settle(sources[i], nil, time.Now())
			}
		}
		if bc.wantErr { // spend the budget
			for range 4 {
				if bud, err := a.check("198.51.100.1", refillNone, time.Now()); err == nil {
					if end, err := a.begin(context.Background(), time.Now(), bud); err == nil {
						end(nil)
					}
				}
			}
		}
		admit := func(src string) {
			now := time.Now()
			bud, err := a.check(src, bc.refill, now)
			if err != nil {
				b.Fatal(err)
			}
			end, err := a.begin(context.Background(), now, bud)
			if (err != nil) != bc.wantErr {
				b.Fatalf("got %v, want an error: %v", err, bc.wantErr)
			}
			if end != nil {
				end(nil)
			}
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				admit(sources[0])
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			var next int
			b.RunParallel(func(pb *testing.PB) {
				a.mu.Lock()
				src := sources[next%len(sources)]
				next++
				a.mu.Unlock()
				for pb.Next() {
					admit(src)
				}
			})
		})
	}
}
