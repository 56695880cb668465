package rediscache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of the options.
const (
	DefaultTimeout = time.Second
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

// WithTimeout sets the budget of one cache miss on Redis, in all: its
// read-or-lock, its wait for another replica's call to Clerk, and its
// write. A miss that gets nothing from Redis within it goes on without
// (the Verifier asks Clerk itself); it also bounds each other call
// (invalidation, back-off, the subscription's ping). Make it longer than a
// typical call to Clerk, so that replicas wait for the one that asks rather
// than ask too; a Redis that refuses connections costs a miss no time at all
// (see New).
//
// Default: DefaultTimeout (1 s).
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
// key's fingerprint. A prefix with braces ({…}) would make Redis Cluster
// keep every key on one slot: avoid them.
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

// New returns a Cache on client: a *redis.Client (standalone, or Sentinel's
// redis.NewFailoverClient), a *redis.ClusterClient, or any other
// redis.UniversalClient. It makes no call to Redis: a Redis that is not
// there yet is not an error (the Verifier does without it until it is).
//
// The Verifier bounds each miss's calls by one deadline (WithTimeout) and
// must learn at once that Redis refuses connections, so a *redis.Client or
// *redis.ClusterClient must be built with these options, else New returns
// an error that names them (NewFromURL sets them):
//
//   - ContextTimeoutEnabled: true — the deadline bounds each call;
//   - MaxRetries: -1 — no retry inside the deadline (a retry would turn a
//     refused connection into a timeout); the Verifier has its own fallback;
//   - DialerRetries: 1 — one dial per attempt, so a refused connection is
//     reported as such, at once.
//
// Recommended as well: DialTimeout within a second, and a PoolSize large
// enough for the cold tokens one replica sees at once (NewFromURL: 64): a
// pool that has no free connection within the deadline is counted as busy
// (verifier.Stats.SharedBusy), never as an outage.
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
	if err := check(client); err != nil {
		return nil, err
	}
	return c, nil
}

// check returns an error naming the options that client lacks.
func check(client redis.UniversalClient) error {
	var ctxOK bool
	var retries, dials int
	switch cl := client.(type) {
	case *redis.Client:
		o := cl.Options()
		ctxOK, retries, dials = o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries
	case *redis.ClusterClient:
		o := cl.Options()
		ctxOK, retries, dials = o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries
	default:
		return nil // a Ring or a wrapper: its owner's business
	}
	var missing []string
	if !ctxOK {
		missing = append(missing, "ContextTimeoutEnabled: true")
	}
	if retries > 0 {
		missing = append(missing, "MaxRetries: -1")
	}
	if dials > 1 {
		missing = append(missing, "DialerRetries: 1")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("rediscache: the client would retry or outlast the Verifier's deadline: set %s in its options (or use NewFromURL)", strings.Join(missing, ", "))
}

// Timeout implements verifier.SharedCache: the budget of one miss.
func (c *Cache) Timeout() time.Duration { return c.timeout }

// bound gives ctx the Cache's timeout unless it has a deadline already.
func (c *Cache) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.timeout)
}

// wrap makes go-redis's "no free connection in time" an error matching
// context.DeadlineExceeded: the Verifier counts it as busy, not as an
// outage.
func wrap(err error) error {
	if errors.Is(err, redis.ErrPoolTimeout) {
		return fmt.Errorf("rediscache: no free connection in time: %w", context.DeadlineExceeded)
	}
	return err
}

// fetch reads a token's entry, or, if there is no usable one, takes its
// lock (one round trip; KEYS share a hash slot). A value that is not a
// string, or longer than ARGV[3], is refused unread. A lock without an
// expiry, or with one longer than ours (ARGV[2] ms), is not a live holder's:
// it is taken over. It returns {state, value, locked}: state 0 nothing, 1 a
// value, 2 one refused unread.
var fetch = redis.NewScript(`
local state = 0
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'string' then
  if redis.call('STRLEN', KEYS[1]) <= tonumber(ARGV[3]) then
    return {1, redis.call('GET', KEYS[1]), 0}
  end
  state = 2
elseif t ~= 'none' then
  state = 2
end
local p = redis.call('PTTL', KEYS[2])
if p == -2 or p == -1 or p > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return {state, '', 1}
end
return {state, '', 0}
`)

// get reads a value of at most ARGV[1] bytes: {0} none, {1, value}, {2}
// refused unread.
var get = redis.NewScript(`
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'none' then return {0} end
if t ~= 'string' or redis.call('STRLEN', KEYS[1]) > tonumber(ARGV[1]) then return {2} end
return {1, redis.call('GET', KEYS[1])}
`)

// Fetch implements verifier.SharedCache.
func (c *Cache) Fetch(ctx context.Context, key, lock, owner string, ttl time.Duration, maxLen int) ([]byte, bool, bool, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	r, err := fetch.Run(ctx, c.client, []string{c.prefix + key, c.prefix + lock}, owner, ttl.Milliseconds(), maxLen).Slice()
	if err != nil {
		return nil, false, false, wrap(err)
	}
	state, value, locked, err := reply(r, 3)
	return value, state != 0, locked == 1, err
}

// Get implements verifier.SharedCache.
func (c *Cache) Get(ctx context.Context, key string, maxLen int) ([]byte, bool, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	r, err := get.Run(ctx, c.client, []string{c.prefix + key}, maxLen).Slice()
	if err != nil {
		return nil, false, wrap(err)
	}
	state, value, _, err := reply(r, 1)
	return value, state != 0, err
}

// reply reads a script's {state, value, locked} (at least n elements).
func reply(r []any, n int) (state int64, value []byte, locked int64, err error) {
	if len(r) < n {
		return 0, nil, 0, fmt.Errorf("rediscache: unexpected reply of %d elements", len(r))
	}
	state, _ = r[0].(int64)
	if state == 1 && len(r) > 1 {
		s, _ := r[1].(string)
		value = []byte(s)
	}
	if len(r) > 2 {
		locked, _ = r[2].(int64)
	}
	return state, value, locked, nil
}

// unlock deletes a lock only if its value is still the owner's: a lock that
// expired and was taken by another replica is left alone.
const unlock = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

// Store implements verifier.SharedCache: SET PX per value, the conditional
// unlock and PUBLISH, pipelined (a Cluster client sends each node its part).
func (c *Cache) Store(ctx context.Context, keys []string, values [][]byte, ttls []time.Duration, lock, owner, channel string, msg []byte) error {
	if len(keys) != len(values) || len(keys) != len(ttls) {
		return errors.New("rediscache: Store: keys, values and ttls differ in length")
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	_, err := c.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			p.Set(ctx, c.prefix+k, values[i], ttls[i])
		}
		if lock != "" {
			p.Eval(ctx, unlock, []string{c.prefix + lock}, owner)
		}
		if msg != nil {
			p.Publish(ctx, c.prefix+channel, msg)
		}
		return nil
	})
	return wrap(err)
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
	return wrap(err)
}

// Publish implements verifier.SharedCache.
func (c *Cache) Publish(ctx context.Context, channel string, msg []byte) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return wrap(c.client.Publish(ctx, c.prefix+channel, msg).Err())
}
