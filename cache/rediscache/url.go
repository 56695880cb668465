package rediscache

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewFromURL returns a Cache on a new client for rawURL
// (redis://[user:password@]host:port/db, rediss://… for TLS, with go-redis's
// query options: as redis.ParseURL reads it), with the options that New
// requires (ContextTimeoutEnabled, MaxRetries -1, DialerRetries 1), a dial
// timeout of a second and a pool of 64 connections, 32 of them kept open,
// unless the URL sets them (dial_timeout, pool_size, min_idle_conns). Close the client after the Verifiers that use
// the Cache. The error never holds the URL (it may hold a password).
func NewFromURL(rawURL string, opts ...Option) (*Cache, *redis.Client, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		var ue *url.Error // its text holds the URL
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("rediscache: the Redis URL does not parse (want redis://host:port/db): %w", err)
	}
	o.ContextTimeoutEnabled = true
	o.MaxRetries = -1
	o.DialerRetries = 1
	if o.DialTimeout == 0 {
		o.DialTimeout = time.Second
	}
	if o.PoolSize == 0 {
		o.PoolSize = 64
	}
	if o.MinIdleConns == 0 {
		o.MinIdleConns = 32 // a replica's first burst finds connections ready
	}
	rdb := redis.NewClient(o)
	c, err := New(rdb, opts...)
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	return c, rdb, nil
}
