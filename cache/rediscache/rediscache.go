package rediscache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of the options.
const (
	DefaultTimeout = 50 * time.Millisecond
	DefaultPrefix  = "m2mauth:"
)

// Cache is a verifier.SharedCache on a Redis client.
type Cache struct {
	client  redis.UniversalClient
	timeout time.Duration
	prefix  string
}

// An Option configures a Cache.
type Option func(*Cache) error

// WithTimeout bounds each call to Redis: a call that takes longer fails, and
// the Verifier goes on without the shared cache for that request.
//
// Default: DefaultTimeout (50 ms).
func WithTimeout(d time.Duration) Option {
	return func(c *Cache) error {
		if d <= 0 {
			return errors.New("rediscache: timeout must be positive")
		}
		c.timeout = d
		return nil
	}
}

// WithPrefix sets the prefix of every key and channel name, before the secret
// key's fingerprint.
//
// Default: DefaultPrefix ("m2mauth:").
func WithPrefix(p string) Option {
	return func(c *Cache) error {
		if p == "" {
			return errors.New("rediscache: empty prefix")
		}
		c.prefix = p
		return nil
	}
}

// New returns a Cache on client. It makes no call to Redis: a Redis that is
// not there yet is not an error (the Verifier does without it until it is).
// A *redis.Client or *redis.ClusterClient whose options would let a call
// outlast the timeout (ContextTimeoutEnabled false and a read or write
// timeout beyond it) is an error.
func New(client redis.UniversalClient, opts ...Option) (*Cache, error) {
	if client == nil {
		return nil, errors.New("rediscache: nil client")
	}
	c := &Cache{client: client, timeout: DefaultTimeout, prefix: DefaultPrefix}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if err := c.checkTimeouts(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cache) checkTimeouts() error {
	var ctxOK bool
	var read, write time.Duration
	switch cl := c.client.(type) {
	case *redis.Client:
		o := cl.Options()
		ctxOK, read, write = o.ContextTimeoutEnabled, o.ReadTimeout, o.WriteTimeout
	case *redis.ClusterClient:
		o := cl.Options()
		ctxOK, read, write = o.ContextTimeoutEnabled, o.ReadTimeout, o.WriteTimeout
	default:
		return nil // a Ring or a wrapper: its owner's business
	}
	if ctxOK || (read > 0 && read <= c.timeout && write > 0 && write <= c.timeout) {
		return nil
	}
	return fmt.Errorf("rediscache: the client would not honour the %v timeout: set ContextTimeoutEnabled: true in its options (or ReadTimeout and WriteTimeout ≤ the timeout)", c.timeout)
}

func (c *Cache) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// Get implements verifier.SharedCache.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	b, err := c.client.Get(ctx, c.prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return b, true, nil
}

// Set implements verifier.SharedCache (SET PX).
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.client.Set(ctx, c.prefix+key, value, ttl).Err()
}

// Delete implements verifier.SharedCache: one DEL per key, pipelined (keys
// may live on different slots of a Cluster).
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	_, err := c.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, c.prefix+k)
		}
		return nil
	})
	return err
}

// Lock implements verifier.SharedCache (SET NX PX).
func (c *Cache) Lock(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.client.SetNX(ctx, c.prefix+key, owner, ttl).Result()
}

// unlock deletes a lock only if its value is still the owner's: a lock that
// expired and was taken by another replica is left alone.
var unlock = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Unlock implements verifier.SharedCache.
func (c *Cache) Unlock(ctx context.Context, key, owner string) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return unlock.Run(ctx, c.client, []string{c.prefix + key}, owner).Err()
}

// Publish implements verifier.SharedCache.
func (c *Cache) Publish(ctx context.Context, channel string, msg []byte) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.client.Publish(ctx, c.prefix+channel, msg).Err()
}
