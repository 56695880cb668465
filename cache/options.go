package cache

import (
	"errors"
	"runtime"
	"time"
)

// An Option configures a Cache.
type Option func(*config) error

type config struct {
	shards   int // a power of two; a test may set it
	negative int // -1: the default
	now      func() time.Time
}

// WithNegativeSize sets how many of the cache's entries may be negative
// (Entry.Negative): negative entries live in an LRU of their own, so a flood
// of them (junk tokens, refusals) evicts other negative entries only, never a
// positive one. The positive part holds the rest of the size. Zero keeps no
// negative entries. New fails unless n is smaller than the size.
//
// Default: a quarter of the size, rounded up, leaving at least one entry to
// the positive part (a cache of size 1 keeps no negative entries).
func WithNegativeSize(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return errors.New("cache: negative size must not be negative")
		}
		c.negative = n
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

func defaultNegativeSize(size int) int { return min((size+3)/4, size-1) }

// defaultShards is the smallest power of two ≥ 4×GOMAXPROCS, at least 16, at
// most 256. New lowers it so that no shard's part is empty.
func defaultShards() int {
	n := 16
	for n < 4*runtime.GOMAXPROCS(0) && n < 256 {
		n <<= 1
	}
	return n
}
