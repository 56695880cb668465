package verifier

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
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
// context allows, at most Limits.Timeout, and then call Clerk themselves).
// Invalidate and InvalidateID reach every replica; a replica whose
// subscription is (re)established may have missed revocations, so it serves
// none of the tokens it cached before until they are confirmed again — by sc
// if it still holds them (a revocation deletes them there), else by Clerk,
// in a call charged to no source (a refill: see Limits.ReservedShare), on
// the reserved share for the first re-subscription in any 10 s. A back-off that Clerk asks of one replica (429 with
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

// shared is the Verifier's side of its SharedCache: names, the MAC key, the
// outage state, and what it does to the Verifier's own cache (l1) when
// another replica says so.
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

	// The Verifier's: its own cache, back-off gate, clock, logger, and its
	// closing context, which every call to sc runs on so that Close cancels
	// them.
	l1      *cache.Cache[result]
	purge   func() // retires the Verifier's own cache (Verifier.purgeLocal)
	backoff *backoff
	now     func() time.Time
	log     *slog.Logger
	ctx     context.Context
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

// newShared returns v's side of sc, keyed by v's secret key. Its lock lasts
// v's call timeout.
func newShared(v *Verifier, sc SharedCache, secretKey string) (*shared, error) {
	derive := func(info string, n int) ([]byte, error) {
		return hkdf.Key(sha256.New, []byte(secretKey), nil, "m2mauth shared cache v1 "+info, n)
	}
	fp, err := derive("namespace", 8)
	if err != nil {
		return nil, err
	}
	s := &shared{sc: sc, ns: hex.EncodeToString(fp), lockTTL: v.cfg.limits.Timeout,
		l1: v.cache, purge: v.purgeLocal, backoff: &v.backoff, now: v.now, log: v.log, ctx: v.closing}
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

// subscribe starts listening to the other replicas; Close calls s.stop.
func (s *shared) subscribe() {
	s.stop = s.sc.Subscribe(s.channel, s.onMessage, s.onSubscribed)
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

// failed counts a failed call to the shared cache and logs the first
// of an outage.
func (s *shared) failed(op string, err error) {
	s.errs.Add(1)
	if s.failures.Add(1) >= sharedFailures {
		s.retryAt.Store(s.now().Add(sharedRetry).UnixNano())
	}
	if s.ctx.Err() == nil && s.down.CompareAndSwap(false, true) {
		s.log.Warn("m2mauth verifier: shared cache unavailable; using this replica's cache and Clerk until it is back",
			"op", op, "err", err)
	}
}

// off reports whether the shared cache is left alone at now, after a
// failure.
func (s *shared) off(now time.Time) bool {
	return now.UnixNano() < s.retryAt.Load()
}

// ok notes a call that worked, and logs the end of an outage.
func (s *shared) ok() {
	s.failures.Store(0)
	if s.down.CompareAndSwap(true, false) {
		s.log.Warn("m2mauth verifier: shared cache back; sharing resumes")
	}
}

// lookup is the L2 part of the Verifier's lookup: the shared entry of key,
// checked and copied into the Verifier's own cache. ok is false on a miss,
// an error, or an entry that does not authenticate (counted, never trusted).
func (s *shared) lookup(key cache.Key, now time.Time) (cache.Entry[result], bool) {
	if s.off(now) {
		return cache.Entry[result]{}, false
	}
	name := s.name("t", key[:])
	type got struct {
		b     []byte
		found bool
	}
	r, err, _ := s.gets.Do(name, func() (any, error) {
		b, found, err := s.sc.Get(s.ctx, name)
		return got{b, found}, err
	})
	b, found := r.(got).b, r.(got).found
	if err != nil {
		s.failed("get", err)
		return cache.Entry[result]{}, false
	}
	s.ok()
	if !found {
		s.misses.Add(1)
		return cache.Entry[result]{}, false
	}
	e, ok := s.decode(name, b)
	if !ok || !now.Before(e.Expires) {
		if !ok {
			s.rejected.Add(1)
			s.log.Debug("m2mauth verifier: shared cache entry rejected")
		}
		return cache.Entry[result]{}, false
	}
	s.hits.Add(1)
	s.l1.Set(key, e)
	return e, true
}

// store writes an entry that the Verifier put in its own cache to the
// shared cache too, with the ID index that InvalidateID uses.
func (s *shared) store(key cache.Key, e cache.Entry[result], now time.Time) {
	ttl := e.Expires.Sub(now)
	if ttl <= 0 || s.off(now) {
		return
	}
	name := s.name("t", key[:])
	if err := s.sc.Set(s.ctx, name, s.seal(name, s.encode(e)), ttl); err != nil {
		s.failed("set", err)
		return
	}
	if e.ID != "" {
		if err := s.sc.Set(s.ctx, s.name("i", []byte(e.ID)), []byte(name), ttl); err != nil {
			s.failed("set", err)
			return
		}
	}
	s.ok()
}

// flight is the cluster-wide part of a flight: the replica that takes key's
// lock runs resolve (which resolves and stores, L1 and L2) while the others
// poll the shared cache for its result, for at most the lock's TTL. ok is
// false when the shared cache cannot help (error, or no result in time): the
// caller then resolves on its own.
func (s *shared) flight(key cache.Key, resolve func() (*Token, error)) (tok *Token, err error, ok bool) {
	if s.off(s.now()) {
		return nil, nil, false
	}
	lock := s.name("l", key[:])
	var t *time.Timer
	polls := int(s.lockTTL / sharedPoll) // the bound on the wait, counted so as not to depend on WithClock
	for waited := false; ; waited = true {
		took, lerr := s.sc.Lock(s.ctx, lock, s.owner, s.lockTTL)
		if lerr != nil {
			s.failed("lock", lerr)
			return nil, nil, false
		}
		if took {
			// The last holder may have stored its result and let go between
			// our miss and this lock.
			if e, hit := s.lookup(key, s.now()); hit {
				s.unlock(lock)
				s.waits.Add(1)
				tok, err = e.Value.answer(e.Negative, s.now())
				return tok, err, true
			}
			tok, err = resolve()
			s.unlock(lock)
			return tok, err, true
		}
		if waited {
			if e, hit := s.lookup(key, s.now()); hit {
				s.waits.Add(1)
				tok, err = e.Value.answer(e.Negative, s.now())
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
		case <-s.ctx.Done():
			return nil, errClosedUnavailable, true
		}
	}
}

func (s *shared) unlock(lock string) {
	if err := s.sc.Unlock(s.ctx, lock, s.owner); err != nil {
		s.failed("unlock", err)
	}
}

// invalidate removes the shared entries named and tells every replica to
// drop msg's token from its own cache.
func (s *shared) invalidate(msg []byte, names ...string) {
	if err := s.sc.Delete(s.ctx, names...); err != nil {
		s.failed("delete", err)
	}
	if err := s.sc.Publish(s.ctx, s.channel, s.seal(s.channel, msg)); err != nil {
		s.failed("publish", err)
		return
	}
	s.ok()
}

// The kinds of messages on the channel.
const (
	msgKey     = 'k' // the SHA-256 of a token: Invalidate
	msgID      = 'i' // a token ID: InvalidateID
	msgBackoff = 'b' // Clerk asked to wait: status (2 bytes), time left (8 bytes, ns)
)

// invalidateKey drops the token whose key is key from every replica.
func (s *shared) invalidateKey(key cache.Key) {
	s.invalidate(append([]byte{msgKey}, key[:]...), s.name("t", key[:]))
}

// invalidateID drops the token with ID id from every replica.
func (s *shared) invalidateID(id string) {
	idName := s.name("i", []byte(id))
	names := []string{idName}
	if b, found, err := s.sc.Get(s.ctx, idName); err != nil {
		s.failed("get", err)
	} else if found && strings.HasPrefix(string(b), s.ns+":t:") {
		names = append(names, string(b))
	}
	s.invalidate(append([]byte{msgID}, id...), names...)
}

// publishBackoff tells every replica that Clerk asked to wait for d.
func (s *shared) publishBackoff(status int, d time.Duration) {
	msg := make([]byte, 11)
	msg[0] = msgBackoff
	binary.BigEndian.PutUint16(msg[1:], uint16(status))
	binary.BigEndian.PutUint64(msg[3:], uint64(d))
	if err := s.sc.Publish(s.ctx, s.channel, s.seal(s.channel, msg)); err != nil {
		s.failed("publish", err)
	}
}

// onMessage handles a message of the channel; one that does not
// authenticate is counted and dropped.
func (s *shared) onMessage(b []byte) {
	msg, ok := s.open(s.channel, b)
	if !ok || len(msg) < 1 {
		s.rejected.Add(1)
		return
	}
	switch body := msg[1:]; {
	case msg[0] == msgKey && len(body) == len(cache.Key{}):
		s.l1.Remove(cache.Key(body))
	case msg[0] == msgID:
		s.l1.InvalidateID(string(body))
	case msg[0] == msgBackoff && len(body) == 10:
		d := time.Duration(binary.BigEndian.Uint64(body[2:]))
		ae := &clerkapi.APIError{StatusCode: int(binary.BigEndian.Uint16(body)), RetryAfter: d}
		s.backoff.open(s.now(), ae)
	default:
		s.rejected.Add(1)
	}
}

// onSubscribed retires the Verifier's own cache when its subscription is
// (re)established: revocations may have been missed meanwhile.
func (s *shared) onSubscribed() {
	s.retryAt.Store(0) // Redis is back: no need to wait for the retry
	s.purges.Add(1)
	s.purge()
}

// sharedEntry is the payload of a shared cache value: a cache entry of the
// Verifier's own, as JSON (sealed by shared.seal).
type sharedEntry struct {
	Expires  int64  `json:"e"`           // the entry's expiry, Unix ns
	Negative bool   `json:"n,omitempty"` // a refusal
	Reason   string `json:"r,omitempty"` // the refusal's reason
	ID       string `json:"i,omitempty"`
	Token    *Token `json:"t,omitempty"` // a valid token
	Valid    int64  `json:"v,omitempty"` // result.expires, Unix ns (0: never)
}

func (s *shared) encode(e cache.Entry[result]) []byte {
	w := sharedEntry{Expires: e.Expires.UnixNano(), Negative: e.Negative, ID: e.ID}
	if e.Negative {
		w.Reason = e.Value.err.Reason
	} else {
		w.Token = e.Value.tok
		if !e.Value.expires.IsZero() {
			w.Valid = e.Value.expires.UnixNano()
		}
	}
	b, _ := json.Marshal(w) // plain fields: cannot fail
	return b
}

// decode returns the entry sealed under name in b; ok is false for anything
// that does not authenticate or is not a whole entry. An entry filled from
// the shared cache is not refreshed ahead: its TTL ends, and the next miss
// finds the newer one or asks Clerk.
func (s *shared) decode(name string, b []byte) (e cache.Entry[result], ok bool) {
	payload, ok := s.open(name, b)
	if !ok {
		return e, false
	}
	var w sharedEntry
	if json.Unmarshal(payload, &w) != nil || w.Expires == 0 {
		return e, false
	}
	e = cache.Entry[result]{ID: w.ID, Negative: w.Negative, Expires: time.Unix(0, w.Expires)}
	switch {
	case w.Negative && w.Reason != "":
		e.Value.err = &InvalidTokenError{Reason: w.Reason}
	case !w.Negative && w.Token != nil && w.Token.Subject != "":
		e.Value.tok = w.Token
		if w.Valid != 0 {
			e.Value.expires = time.Unix(0, w.Valid)
		}
	default:
		return e, false
	}
	return e, true
}
