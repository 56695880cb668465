package verifier

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/m2mauth/m2mauth/cache"
	"github.com/m2mauth/m2mauth/clerkapi"
)

// SharedCache is a second-level cache shared by the replicas of a service
// (package github.com/m2mauth/m2mauth/cache/rediscache implements it on
// Redis). It stores opaque bytes under opaque names: the Verifier derives the
// names from a fingerprint of its secret key and a keyed hash of the token,
// and authenticates every value and message (HMAC-SHA-256 under a key derived
// from its secret key with HKDF), so that an implementation sees no token and
// no key, and what it returns is checked before it is trusted.
//
// Every method must be safe for concurrent use and bounded in time (a few
// tens of milliseconds): the Verifier calls them on the request's path and
// treats any error as "the shared cache is not there", falling back to its
// own cache and Clerk.
type SharedCache interface {
	// Get returns the value stored under key; ok is false when there is none.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	// Set stores value under key for ttl.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes the keys.
	Delete(ctx context.Context, keys ...string) error
	// Lock takes the lock named key for owner for at most ttl (SET NX PX);
	// ok is false when someone else holds it.
	Lock(ctx context.Context, key, owner string, ttl time.Duration) (ok bool, err error)
	// Unlock releases the lock named key if owner still holds it.
	Unlock(ctx context.Context, key, owner string) error
	// Publish sends msg to every subscriber of channel, this replica's included.
	Publish(ctx context.Context, channel string, msg []byte) error
	// Subscribe calls onMessage with each message published on channel, and
	// onSubscribed each time the subscription is (re)established: messages
	// may have been missed before it. It returns at once; stop ends the
	// subscription and returns once no callback runs any more.
	Subscribe(channel string, onMessage func(msg []byte), onSubscribed func()) (stop func())
}

// WithSharedCache adds a second-level cache shared by every replica (Redis:
// see package cache/rediscache). Lookups go to the Verifier's own cache, then
// to sc, then to Clerk; what Clerk answers is stored in both, under the same
// rules. Concurrent misses of one token on several replicas cost one call to
// Clerk (a short lock in sc; the others wait for its result as long as their
// context allows, at most WithTimeout, and then call Clerk themselves).
// Invalidate and InvalidateID reach every replica; a replica whose
// subscription is (re)established empties its own cache, since it may have
// missed revocations. A back-off that Clerk asks of one replica (429 with
// Retry-After) is honoured by all. The breaker stays per replica: it reacts
// to what this replica sees of Clerk.
//
// sc failing (down, slow, evicting, tampered with) never lets an invalid
// token through and never fails a request by itself: the Verifier falls back
// to its own cache and Clerk, logs the outage once (Warn) and counts
// (Stats.SharedErrors). Close does not close sc.
//
// Default: none (each replica on its own).
func WithSharedCache(sc SharedCache) Option {
	return func(c *config) error {
		if sc == nil {
			return errors.New("verifier: nil shared cache")
		}
		c.shared = sc
		return nil
	}
}

// shared is the Verifier's side of its SharedCache: names, the MAC key,
// and the outage state.
type shared struct {
	sc      SharedCache
	ns      string // fingerprint of the secret key, the names' namespace
	nameKey []byte // keys the hash that names a token's entry
	macKey  []byte // authenticates values and messages
	channel string
	owner   string // this Verifier's lock owner: random
	lockTTL time.Duration
	stop    func()
	down    atomic.Bool // an outage was logged and not yet recovered from
	// After sharedFailures failed calls in a row, the shared cache is left
	// alone until retryAt (Unix ns on the Verifier's clock): misses do
	// without it rather than each wait for its calls' timeouts.
	failures atomic.Int64
	retryAt  atomic.Int64
	// gets shares one GET among the concurrent misses of a token here: a
	// cold burst costs Redis one read per token, not one per request.
	gets singleflight.Group

	hits, misses, errs, rejected, waits, purges atomic.Uint64
}

// sharedVersion is the first byte of every value and message; a value of
// another version is rejected.
const sharedVersion = 1

// After sharedFailures failed calls in a row, the shared cache is left alone
// for sharedRetry (or until the subscription is re-established).
const (
	sharedFailures = 3
	sharedRetry    = time.Second
)

// sharedPoll is how often a replica waiting for another's call to Clerk
// looks for its result.
const sharedPoll = 5 * time.Millisecond

func newShared(sc SharedCache, secretKey string, lockTTL time.Duration) (*shared, error) {
	derive := func(info string, n int) ([]byte, error) {
		return hkdf.Key(sha256.New, []byte(secretKey), nil, "m2mauth shared cache v1 "+info, n)
	}
	fp, err := derive("namespace", 8)
	if err != nil {
		return nil, err
	}
	s := &shared{sc: sc, ns: hex.EncodeToString(fp), lockTTL: lockTTL}
	if s.nameKey, err = derive("names", 32); err != nil {
		return nil, err
	}
	if s.macKey, err = derive("values", 32); err != nil {
		return nil, err
	}
	s.channel = s.ns + ":events"
	s.owner = rand.Text()
	return s, nil
}

// name returns the name of key's entry (kind "t"), lock ("l"), or of a token
// ID's index entry ("i"): the namespace and a keyed hash, never a token.
func (s *shared) name(kind string, b []byte) string {
	m := hmac.New(sha256.New, s.nameKey)
	m.Write([]byte(kind))
	m.Write(b)
	return s.ns + ":" + kind + ":" + hex.EncodeToString(m.Sum(nil)[:16])
}

// seal returns version || payload || HMAC(name || version || payload): the
// MAC binds a value to its name, so that an entry copied under another name
// is rejected as well as a forged one.
func (s *shared) seal(name string, payload []byte) []byte {
	out := append([]byte{sharedVersion}, payload...)
	return append(out, s.mac(name, out)...)
}

// open returns the payload of a value sealed under name, or ok false.
func (s *shared) open(name string, b []byte) (payload []byte, ok bool) {
	if len(b) < 1+sha256.Size || b[0] != sharedVersion {
		return nil, false
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if !hmac.Equal(sum, s.mac(name, body)) {
		return nil, false
	}
	return body[1:], true
}

func (s *shared) mac(name string, body []byte) []byte {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)
}

// ctx bounds nothing itself: the SharedCache bounds each call. It is the
// Verifier's closing context, so that Close cancels them.
func (v *Verifier) sharedCtx() context.Context { return v.closing }

// sharedFailed counts a failed call to the shared cache and logs the first
// of an outage.
func (v *Verifier) sharedFailed(op string, err error) {
	s := v.shared
	s.errs.Add(1)
	if s.failures.Add(1) >= sharedFailures {
		s.retryAt.Store(v.now().Add(sharedRetry).UnixNano())
	}
	if v.closing.Err() == nil && s.down.CompareAndSwap(false, true) {
		v.log.Warn("m2mauth verifier: shared cache unavailable; using this replica's cache and Clerk until it is back",
			"op", op, "err", err)
	}
}

// sharedOff reports whether the shared cache is left alone at now, after a
// failure.
func (v *Verifier) sharedOff(now time.Time) bool {
	return now.UnixNano() < v.shared.retryAt.Load()
}

// sharedOK notes a call that worked, and logs the end of an outage.
func (v *Verifier) sharedOK() {
	v.shared.failures.Store(0)
	if v.shared.down.CompareAndSwap(true, false) {
		v.log.Info("m2mauth verifier: shared cache back")
	}
}

// sharedLookup is the L2 part of lookup: the shared entry of key, checked and
// copied into the Verifier's own cache. ok is false on a miss, an error, or
// an entry that does not authenticate (counted, never trusted).
func (v *Verifier) sharedLookup(key cache.Key, now time.Time) (cache.Entry[result], bool) {
	s := v.shared
	if v.sharedOff(now) {
		return cache.Entry[result]{}, false
	}
	name := s.name("t", key[:])
	type got struct {
		b     []byte
		found bool
	}
	r, err, _ := s.gets.Do(name, func() (any, error) {
		b, found, err := s.sc.Get(v.sharedCtx(), name)
		return got{b, found}, err
	})
	b, found := r.(got).b, r.(got).found
	if err != nil {
		v.sharedFailed("get", err)
		return cache.Entry[result]{}, false
	}
	v.sharedOK()
	if !found {
		s.misses.Add(1)
		return cache.Entry[result]{}, false
	}
	e, ok := s.decode(name, b)
	if !ok || !now.Before(e.Expires) {
		if !ok {
			s.rejected.Add(1)
			v.log.Debug("m2mauth verifier: shared cache entry rejected")
		}
		return cache.Entry[result]{}, false
	}
	s.hits.Add(1)
	v.cache.Set(key, e)
	return e, true
}

// sharedStore writes an entry that store put in the Verifier's own cache to
// the shared cache too, with the ID index that InvalidateID uses.
func (v *Verifier) sharedStore(key cache.Key, e cache.Entry[result], now time.Time) {
	s := v.shared
	ttl := e.Expires.Sub(now)
	if ttl <= 0 || v.sharedOff(now) {
		return
	}
	name := s.name("t", key[:])
	ctx := v.sharedCtx()
	if err := s.sc.Set(ctx, name, s.seal(name, s.encode(e)), ttl); err != nil {
		v.sharedFailed("set", err)
		return
	}
	if e.ID != "" {
		if err := s.sc.Set(ctx, s.name("i", []byte(e.ID)), []byte(name), ttl); err != nil {
			v.sharedFailed("set", err)
			return
		}
	}
	v.sharedOK()
}

// sharedFlight is the cluster-wide part of a flight: the replica that takes
// key's lock resolves and stores (L1 and L2) while the others poll the shared
// cache for its result, for at most the lock's TTL. ok is false when the
// shared cache cannot help (error, or no result in time): the caller then
// resolves on its own.
func (v *Verifier) sharedFlight(parent context.Context, key cache.Key, token string, src *budget) (tok *Token, err error, ok bool) {
	s := v.shared
	if v.sharedOff(v.now()) {
		return nil, nil, false
	}
	lock := s.name("l", key[:])
	var t *time.Timer
	polls := int(s.lockTTL / sharedPoll) // the bound on the wait, counted so as not to depend on WithClock
	for waited := false; ; waited = true {
		took, lerr := s.sc.Lock(v.sharedCtx(), lock, s.owner, s.lockTTL)
		if lerr != nil {
			v.sharedFailed("lock", lerr)
			return nil, nil, false
		}
		if took {
			// The last holder may have stored its result and let go between
			// our miss and this lock.
			if e, hit := v.sharedLookup(key, v.now()); hit {
				v.sharedUnlock(lock)
				s.waits.Add(1)
				tok, err = e.Value.answer(e.Negative, v.now())
				return tok, err, true
			}
			d := v.resolve(parent, token, src)
			v.store(key, d, v.now())
			v.sharedUnlock(lock)
			tok, err = d.result()
			return tok, err, true
		}
		if waited {
			if e, hit := v.sharedLookup(key, v.now()); hit {
				s.waits.Add(1)
				tok, err = e.Value.answer(e.Negative, v.now())
				return tok, err, true
			}
		}
		if polls--; polls < 0 {
			return nil, nil, false // the holder died or hangs: on our own
		}
		if t == nil {
			t = time.NewTimer(sharedPoll)
			defer t.Stop()
		} else {
			t.Reset(sharedPoll)
		}
		select {
		case <-t.C:
		case <-v.closing.Done():
			return nil, &UnavailableError{Err: ErrClosed}, true
		}
	}
}

func (v *Verifier) sharedUnlock(lock string) {
	if err := v.shared.sc.Unlock(v.sharedCtx(), lock, v.shared.owner); err != nil {
		v.sharedFailed("unlock", err)
	}
}

// sharedInvalidate removes the shared entries named and tells every replica
// to drop msg's token from its own cache.
func (v *Verifier) sharedInvalidate(msg []byte, names ...string) {
	s := v.shared
	ctx := v.sharedCtx()
	if err := s.sc.Delete(ctx, names...); err != nil {
		v.sharedFailed("delete", err)
	}
	if err := s.sc.Publish(ctx, s.channel, s.seal(s.channel, msg)); err != nil {
		v.sharedFailed("publish", err)
		return
	}
	v.sharedOK()
}

// The kinds of messages on the channel.
const (
	msgKey     = 'k' // the SHA-256 of a token: Invalidate
	msgID      = 'i' // a token ID: InvalidateID
	msgBackoff = 'b' // Clerk asked to wait: status (2 bytes), time left (8 bytes, ns)
)

func (v *Verifier) sharedInvalidateKey(key cache.Key) {
	v.sharedInvalidate(append([]byte{msgKey}, key[:]...), v.shared.name("t", key[:]))
}

func (v *Verifier) sharedInvalidateID(id string) {
	s := v.shared
	idName := s.name("i", []byte(id))
	names := []string{idName}
	if b, found, err := s.sc.Get(v.sharedCtx(), idName); err != nil {
		v.sharedFailed("get", err)
	} else if found && strings.HasPrefix(string(b), s.ns+":t:") {
		names = append(names, string(b))
	}
	v.sharedInvalidate(append([]byte{msgID}, id...), names...)
}

// sharedBackoff tells every replica that Clerk asked to wait for d.
func (v *Verifier) sharedBackoff(status int, d time.Duration) {
	s := v.shared
	msg := make([]byte, 11)
	msg[0] = msgBackoff
	binary.BigEndian.PutUint16(msg[1:], uint16(status))
	binary.BigEndian.PutUint64(msg[3:], uint64(d))
	if err := s.sc.Publish(v.sharedCtx(), s.channel, s.seal(s.channel, msg)); err != nil {
		v.sharedFailed("publish", err)
	}
}

// onShared handles a message of the channel; one that does not authenticate
// is counted and dropped.
func (v *Verifier) onShared(b []byte) {
	s := v.shared
	msg, ok := s.open(s.channel, b)
	if !ok || len(msg) < 1 {
		s.rejected.Add(1)
		return
	}
	switch body := msg[1:]; {
	case msg[0] == msgKey && len(body) == len(cache.Key{}):
		v.cache.Remove(cache.Key(body))
	case msg[0] == msgID:
		v.cache.InvalidateID(string(body))
	case msg[0] == msgBackoff && len(body) == 10:
		d := time.Duration(binary.BigEndian.Uint64(body[2:]))
		ae := &clerkapi.APIError{StatusCode: int(binary.BigEndian.Uint16(body)), RetryAfter: d}
		v.backoff.open(v.now(), ae)
	default:
		s.rejected.Add(1)
	}
}

// onSubscribed empties the Verifier's own cache when its subscription is
// (re)established: revocations may have been missed meanwhile.
func (v *Verifier) onSubscribed() {
	v.shared.retryAt.Store(0) // Redis is back: no need to wait for the retry
	v.shared.purges.Add(1)
	v.cache.Purge()
}
