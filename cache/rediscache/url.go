package rediscache

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/redis/go-redis/v9"
)

// NewFromURL returns a Cache on a new client for rawURL
// (redis://[user:password@]host:port/db, rediss://… for TLS, with go-redis's
// query options: as redis.ParseURL reads it), with ContextTimeoutEnabled so
// that WithTimeout bounds every call. Close the client after the Verifiers
// that use the Cache. The error never holds the URL (it may hold a password).
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
	rdb := redis.NewClient(o)
	c, err := New(rdb, opts...)
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	return c, rdb, nil
}
