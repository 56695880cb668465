package cache

import (
	"sync/atomic"
	"testing"
	"time"
)

func benchCache(b *testing.B, shards int) (*Cache[*int], []Key) {
	b.Helper()
	opts := []Option{WithClock(func() time.Time { return t0 })}
	if shards > 0 {
		opts = append(opts, withShards(shards))
	}
	c, err := New[*int](10_000, opts...)
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]Key, 1024)
	v := new(int)
	for i := range keys {
		keys[i] = key(i)
		c.Set(keys[i], Entry[*int]{Value: v, ID: "mt_x", Expires: t0.Add(time.Hour)})
	}
	return c, keys
}

func BenchmarkGet(b *testing.B) {
	c, keys := benchCache(b, 0)
	b.ReportAllocs()
	for b.Loop() {
		c.Get(keys[0])
	}
}

// BenchmarkGetParallel reads from every goroutine, with the default shard
// count and with a single shard (one lock for all):
//   - hot: each goroutine reads its own key over and over (one token per
//     calling machine, the common case);
//   - cycle: each goroutine cycles through 1024 keys.
func BenchmarkGetParallel(b *testing.B) {
	for _, bc := range []struct {
		name   string
		shards int
		cycle  bool
	}{
		{"hot/sharded", 0, false},
		{"hot/one-shard", 1, false},
		{"cycle/sharded", 0, true},
		{"cycle/one-shard", 1, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, keys := benchCache(b, bc.shards)
			var seed atomic.Int64
			mask := 0
			if bc.cycle {
				mask = 1023
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				// Goroutine g starts at key 2g+1: distinct keys, and with the
				// sharded cache almost surely distinct shards.
				i := int(seed.Add(1))*2 + 1
				for pb.Next() {
					c.Get(keys[(i&mask)|(i&^mask&1023)])
					i += mask & 1
				}
			})
		})
	}
}
