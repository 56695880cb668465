package cache

import (
	"errors"
	"runtime"
	"time"
)

// An Option configures a Cache.
type Option func(*config) error

type config struct {
	shards int
	now    func() time.Time
}

// WithShards sets the number of shards, a power of two between 1 and 1024.
// Each shard is an independent LRU with its own lock, so hits on keys in
// different shards never wait for one another. A Cache never has more shards
// than entries: with a size smaller than n, the shard count is lowered to the
// largest power of two not above the size.
//
// Default: the smallest power of two ≥ 4×GOMAXPROCS, at least 16, at most 256.
func WithShards(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 1024 || n&(n-1) != 0 {
			return errors.New("cache: shard count must be a power of two between 1 and 1024")
		}
		c.shards = n
		return nil
	}
}

// WithClock sets the clock that entry expiries are compared with.
//
// Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("cache: nil clock")
		}
		c.now = now
		return nil
	}
}

func defaultShards() int {
	n := 16
	for n < 4*runtime.GOMAXPROCS(0) && n < 256 {
		n <<= 1
	}
	return n
}
