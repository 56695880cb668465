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
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

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
// The Verifier passes every call a context whose deadline is what is left of
// the miss's budget (Timeout); an implementation must honour it, and must not
// retry inside it: it reports a failure at once (a refused connection as
// such, not as a timeout). A timeout (an error matching
// context.DeadlineExceeded or os.ErrDeadlineExceeded, or a net.Error whose
// Timeout is true) while other calls succeed means the implementation was
// busy (no free connection in time, a burst): the Verifier counts it but
// does not take it for an outage. Any other error, or timeouts with no call
// succeeding for half a second, is an outage of the shared cache: the
// Verifier leaves it alone for half a second (or until its subscription is
// re-established) and logs the outage once.
//
// Every method must be safe for concurrent use.
type SharedCache interface {
	// Timeout is the budget of one miss on the shared cache, in all: its
	// read-or-lock, the wait for another replica's result, and its write.
	Timeout() time.Duration
	// Fetch returns the value stored under key if it is a value of at most
	// maxLen bytes (found, value). Otherwise — no value, or one that is
	// over maxLen or not a plain value, which is refused unread (found, nil
	// value) — it takes the lock named lock for owner for ttl, unless another
	// holds it with an expiry of at most ttl; a lock without an expiry, or
	// with a longer one, is taken over. locked reports whether owner now
	// holds the lock. One round trip: key and lock share a hash slot (the
	// Verifier's names carry the same hash tag).
	Fetch(ctx context.Context, key, lock, owner string, ttl time.Duration, maxLen int) (value []byte, found, locked bool, err error)
	// Get returns the value stored under key if it is one of at most maxLen
	// bytes; found with a nil value: there is one, refused unread.
	Get(ctx context.Context, key string, maxLen int) (value []byte, found bool, err error)
	// Store stores values[i] under keys[i] for ttls[i]; then, if lock is not
	// "", releases it if owner still holds it; then, if msg is not nil,
	// publishes msg on channel. In one round trip where the topology allows
	// (a pipeline).
	Store(ctx context.Context, keys []string, values [][]byte, ttls []time.Duration, lock, owner, channel string, msg []byte) error
	// Delete removes the keys.
	Delete(ctx context.Context, keys ...string) error
	// Publish sends msg to every subscriber of channel, this replica's included.
	Publish(ctx context.Context, channel string, msg []byte) error
	// Subscribe calls onMessage with each message published on channel, and
	// onSubscribed each time the subscription is (re)established: messages
	// may have been missed before it. It returns at once; stop ends the
	// subscription and returns once no callback runs any more.
	Subscribe(channel string, onMessage func(msg []byte), onSubscribed func()) (stop func())
}

// WithSharedCache adds a second-level cache shared by every replica (Redis:
// see package cache/rediscache). A token missing from the Verifier's own
// cache is looked up there, once per token and replica whatever the number of
// concurrent requests, in the same round trip that takes the token's lock
// when the shared cache has nothing; the replica that takes it asks Clerk,
// stores the answer in both caches and hands it to the replicas waiting for
// it. The shared cache's part of one miss (read-or-lock, wait, write) is
// bounded by sc.Timeout in all: a replica that gets nothing in that time asks
// Clerk itself.
//
// Invalidate and InvalidateID reach every replica; each remembers the
// revoked token for its TTL and refuses shared entries verified before the
// revocation. A revocation that cannot reach the shared cache (an outage,
// a failover) is honoured here at once and sent again every 500 ms and when
// the subscription is re-established, until sc takes it; a result that could
// not be written is written with later ones or on re-subscription (at most
// 256 of each kept, the oldest dropped first). A replica whose
// subscription is (re)established may have missed revocations, so it serves
// none of the tokens it cached before until they are confirmed again — by sc
// if it still holds them (a revocation deletes them there), else by Clerk,
// in a call charged to no source (a refill: see Limits.ReservedShare), on
// the reserved share for the first re-subscription in any 10 s. A back-off
// that Clerk asks of one replica (429 with Retry-After) is honoured by all. The breaker stays per replica: it
// reacts to what this replica sees of Clerk.
//
// sc failing (down, slow, evicting, tampered with) never lets an invalid
// token through and never fails a request by itself: the Verifier falls back
// to its own cache and Clerk, logs the outage once at Warn when it starts
// (with its cause: connection refused, timeout…) and once when it ends, and
// counts (Stats.SharedErrors). During an outage sc is left alone for 500 ms
// at a time, then tried again by one call while the others go on without
// it. Values and messages over 64 KiB are refused; a shared entry is trusted
// for at most this Verifier's own TTL from when it was verified. Close does
// not close sc.
//
// Default: none (each replica on its own).
func WithSharedCache(sc SharedCache) Option {
	return func(c *config) error {
		if sc == nil {
			return errors.New("verifier: nil shared cache")
		}
		if sc.Timeout() <= 0 {
			return errors.New("verifier: the shared cache's Timeout must be positive")
		}
		c.shared = sc
		return nil
	}
}

// The shared cache's bounds.
const (
	sharedVersion = 2 // the first byte of every value and message

	// sharedMaxValue bounds what is read of a value or a message: a token
	// entry is well under 4 KiB with its claims.
	sharedMaxValue = 64 << 10

	// After an outage error the shared cache is left alone for sharedRetry
	// (or until the subscription is re-established).
	sharedRetry = 500 * time.Millisecond

	// sharedPoll is how often a replica waiting for another's result reads
	// again, in case the message that carries it is lost.
	sharedPoll = 25 * time.Millisecond

	// sharedSkew is the clock skew tolerated between replicas: an entry
	// verified less than this after a revocation is refused too.
	sharedSkew = time.Second

	// sharedMsgAge is how old a message may be (by its sender's clock) and
	// still be heard; each is heard once (its nonce is remembered as long).
	sharedMsgAge = 10 * time.Second

	// What a replica remembers: revocations (for its TTL), nonces (for
	// sharedMsgAge), results and revocations not yet written.
	sharedMaxRevoked = 1 << 16
	sharedMaxNonces  = 1 << 16
	sharedMaxPending = 256
	sharedFlushBatch = 32
)

// shared is the Verifier's side of its SharedCache: names, the MAC key, the
// outage state, what it remembers (revocations, nonces, pending writes), and
// what it does to the Verifier's own cache (l1) when another replica says
// so.
type shared struct {
	sc      SharedCache
	ns      string // fingerprint of the secret key, the names' namespace
	nameKey []byte // keys the hash that names a token's entry
	macKey  []byte // authenticates values and messages
	channel string
	owner   string // this Verifier's lock owner: random
	budget  time.Duration
	lockTTL time.Duration
	ttl     time.Duration // the Verifier's own: a shared entry is trusted no longer
	negTTL  time.Duration
	stop    func()
	down    atomic.Bool    // an outage was logged and not yet recovered from
	retryAt atomic.Int64   // Unix ns (wall clock): left alone until then (see off)
	resends sync.WaitGroup // the goroutine sending kept revocations (see retryLater)
	lastOK  atomic.Int64   // Unix ns (wall clock) of the last call that worked

	// The Verifier's: its own cache, back-off gate, clock, logger, and its
	// closing context, which every call to sc runs on so that Close cancels
	// them.
	l1      *cache.Cache[result]
	purge   func() // retires the Verifier's own cache (Verifier.purgeLocal)
	backoff *backoff
	now     func() time.Time
	log     *slog.Logger
	ctx     context.Context

	revoked remembered // "i"+ID or "k"+key → when it was revoked
	nonces  remembered // nonces of the messages heard

	mu      sync.Mutex
	waiting map[string]chan []byte // entry name → the flight waiting for it
	writes  []pendingWrite         // results not yet written, oldest first
	revokes [][]byte               // revocation messages not yet sent
	resend  bool                   // a goroutine sends them (see retryLater)

	hits, misses, errs, busy, rejected, waits, purges atomic.Uint64
}

// newShared returns v's side of sc, keyed by v's secret key.
func newShared(v *Verifier, sc SharedCache, secretKey string) (*shared, error) {
	derive := func(info string, n int) ([]byte, error) {
		return hkdf.Key(sha256.New, []byte(secretKey), nil, "m2mauth shared cache v1 "+info, n)
	}
	fp, err := derive("namespace", 8)
	if err != nil {
		return nil, err
	}
	s := &shared{sc: sc, ns: hex.EncodeToString(fp), ttl: v.cfg.ttl, negTTL: v.cfg.negativeTTL,
		l1: v.cache, purge: v.purgeLocal, backoff: &v.backoff, now: v.now, log: v.log, ctx: v.closing,
		waiting: map[string]chan []byte{}}
	if sc != nil {
		s.budget = sc.Timeout()
	}
	// The holder may take the whole call to Clerk; waiters give up sooner
	// (their budget), so the lock only keeps a dead holder's token busy.
	s.lockTTL = v.cfg.limits.Timeout + s.budget
	s.lastOK.Store(time.Now().UnixNano()) // a new replica's first timeouts are a busy start, not an outage
	s.revoked = remembered{max: sharedMaxRevoked, keep: max(s.ttl, s.negTTL) + sharedSkew}
	s.nonces = remembered{max: sharedMaxNonces, keep: 2 * sharedMsgAge}
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

// Names: the namespace, then a keyed hash of the token's key or ID as a hash
// tag (a Redis Cluster keeps an entry and its lock on one slot), then the
// kind: "t" a token's entry, "l" its lock, "i" a token ID's index entry.
// Never a token.
func (s *shared) hash(kind string, b []byte) string {
	m := hmac.New(sha256.New, s.nameKey)
	m.Write([]byte(kind))
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (s *shared) entryName(key cache.Key) string { return s.ns + ":{" + s.hash("t", key[:]) + "}:t" }
func (s *shared) lockName(key cache.Key) string  { return s.ns + ":{" + s.hash("t", key[:]) + "}:l" }
func (s *shared) indexName(id string) string     { return s.ns + ":{" + s.hash("i", []byte(id)) + "}:i" }

// seal returns version || payload || HMAC(name || version || payload): the
// MAC binds a value to its name, so that an entry copied under another name
// is rejected as well as a forged one.
func (s *shared) seal(name string, payload []byte) []byte {
	out := append([]byte{sharedVersion}, payload...)
	return append(out, s.mac(name, out)...)
}

// open returns the payload of a value sealed under name, or ok false.
func (s *shared) open(name string, b []byte) (payload []byte, ok bool) {
	if len(b) < 1+sha256.Size || len(b) > sharedMaxValue || b[0] != sharedVersion {
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

// off reports whether this call leaves the shared cache alone: for
// sharedRetry after an outage began; then, until a call works again, every
// call but one (the probe) for each budget and sharedRetry in turn. So a
// Redis that hangs rather than refuse costs one call's budget per retry, not
// that of every miss under way.
func (s *shared) off() bool {
	at, now := s.retryAt.Load(), time.Now().UnixNano()
	if now < at {
		return true
	}
	if !s.down.Load() {
		return false
	}
	return !s.retryAt.CompareAndSwap(at, now+int64(s.budget+sharedRetry))
}

// failed counts a failed call to the shared cache. A busy one (a timeout
// while other calls work: no free connection, a burst) is only counted; an
// outage (refused, reset, an error from Redis, timeouts and nothing working
// for sharedRetry) leaves the shared cache alone for sharedRetry and is
// logged at Warn, once, with its cause.
func (s *shared) failed(op string, err error) {
	if s.ctx.Err() != nil {
		return // Close cancelled the call
	}
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
	if timeout && time.Since(time.Unix(0, s.lastOK.Load())) < sharedRetry {
		s.busy.Add(1)
		s.log.Debug("m2mauth verifier: shared cache busy; this miss goes on without it", "op", op, "err", err)
		return
	}
	s.errs.Add(1)
	s.retryAt.Store(time.Now().Add(sharedRetry).UnixNano())
	if s.down.CompareAndSwap(false, true) {
		s.log.Warn("m2mauth verifier: shared cache unavailable; using this replica's cache and Clerk until it is back",
			"op", op, "cause", err.Error())
	}
}

// ok notes that Redis answered; the first answer after an outage ends it,
// logged at Warn.
func (s *shared) ok() {
	s.lastOK.Store(time.Now().UnixNano())
	if s.down.CompareAndSwap(true, false) {
		s.retryAt.Store(0)
		s.log.Warn("m2mauth verifier: shared cache back; sharing resumes")
	}
}

// close stops the subscription and waits for the goroutine sending kept
// revocations, if any; the Verifier's closing context, cancelled before, ends
// its calls.
func (s *shared) close() {
	s.stop()
	s.mu.Lock() // a retryLater that saw the context alive has started it
	s.mu.Unlock()
	s.resends.Wait()
}

// A turn is the shared cache's part of one flight: what begin found, whether
// this replica holds the token's lock, and what is left of the budget.
type turn struct {
	key    cache.Key
	name   string
	lock   string
	entry  cache.Entry[result]
	hit    bool
	locked bool          // this replica holds the lock: it writes the result
	spent  time.Duration // of the budget, by begin
}

// result returns the entry that begin found (stored by this or another
// replica), if any.
func (t *turn) result() (cache.Entry[result], bool) { return t.entry, t.hit }

// begin is stage 4, inside the flight of key: one read-or-lock round trip;
// if another replica holds the lock, the wait for its result (the message
// that carries it, or a read every sharedPoll), within the budget. The turn
// says what it found; without a result, the flight resolves on its own (and
// holds the lock if the turn says so).
func (s *shared) begin(key cache.Key) *turn {
	t := &turn{key: key, name: s.entryName(key), lock: s.lockName(key)}
	if s.off() {
		return t
	}
	start := time.Now()
	defer func() { t.spent = time.Since(start) }()
	ctx, cancel := context.WithTimeout(s.ctx, s.budget)
	defer cancel()
	var filled chan []byte
	for waited := false; ; waited = true {
		b, found, locked, err := s.sc.Fetch(ctx, t.name, t.lock, s.owner, s.lockTTL, sharedMaxValue)
		if err != nil {
			s.failed("fetch", err)
			return t
		}
		s.ok()
		if found {
			if t.entry, t.hit = s.accept(key, t.name, b); t.hit {
				s.count(waited)
				return t
			}
		} else if !waited {
			s.misses.Add(1)
		}
		if locked {
			t.locked = true
			return t
		}
		if found {
			return t // an entry we refuse under another's lock: on our own, the write replaces it
		}
		if filled == nil {
			filled = s.await(t.name)
			defer s.unawait(t.name)
		}
		if t.entry, t.hit = s.wait(ctx, key, t.name, filled); t.hit {
			s.count(true)
			return t
		}
		if ctx.Err() != nil {
			s.busy.Add(1) // the holder took the whole budget: on our own
			return t
		}
	}
}

// count counts a result found in the shared cache: waited, another
// replica's call answered this one.
func (s *shared) count(waited bool) {
	if waited {
		s.waits.Add(1)
	} else {
		s.hits.Add(1)
	}
}

// wait waits for the holder's result for at most sharedPoll: the message
// carrying it, or the end of the wait (read again), or the holder's word that
// it has none (read again at once: the lock may be free).
func (s *shared) wait(ctx context.Context, key cache.Key, name string, filled chan []byte) (cache.Entry[result], bool) {
	t := time.NewTimer(sharedPoll)
	defer t.Stop()
	select {
	case b := <-filled:
		if len(b) > 0 {
			return s.accept(key, name, b)
		}
	case <-t.C:
	case <-ctx.Done():
	}
	return cache.Entry[result]{}, false
}

func (s *shared) await(name string) chan []byte {
	ch := make(chan []byte, 1)
	s.mu.Lock()
	s.waiting[name] = ch
	s.mu.Unlock()
	return ch
}

func (s *shared) unawait(name string) {
	s.mu.Lock()
	delete(s.waiting, name)
	s.mu.Unlock()
}

// accept returns the entry sealed under name in b if it may be served now:
// it authenticates, it is live, and it was not verified before a revocation
// of its token that this replica heard of. It is trusted for at most this
// replica's own TTL from when it was verified.
func (s *shared) accept(key cache.Key, name string, b []byte) (cache.Entry[result], bool) {
	e, at, ok := s.decode(name, b)
	if !ok {
		s.rejected.Add(1)
		s.log.Debug("m2mauth verifier: shared cache entry rejected")
		return e, false
	}
	if !e.Negative && (s.revokedSince(key, e.ID, at)) {
		s.rejected.Add(1)
		s.log.Debug("m2mauth verifier: shared cache entry older than a revocation of its token; rejected")
		return e, false
	}
	limit := at.Add(s.ttl)
	if e.Negative {
		limit = at.Add(s.negTTL)
	}
	if e.Expires.After(limit) {
		e.Expires = limit
	}
	return e, s.now().Before(e.Expires)
}

// revokedSince reports whether a revocation of key or id was heard that an
// entry verified at at predates (within the clock skew).
func (s *shared) revokedSince(key cache.Key, id string, at time.Time) bool {
	refs := [2]string{"k" + string(key[:]), "i" + id}
	for _, ref := range refs[:1+min(len(id), 1)] {
		if r, ok := s.revoked.get(ref); ok && at.Before(r.Add(sharedSkew)) {
			return true
		}
	}
	return false
}

// A pendingWrite is a result that could not be written: written with the
// next write, or when the subscription is re-established.
type pendingWrite struct {
	key     cache.Key
	id      string
	at      time.Time // verified at
	name    string
	value   []byte
	expires time.Time
}

// store is the shared part of stage 8: it writes the entry that the Verifier
// put in its own cache (none: ok false, an error) with the ID index that
// InvalidateID uses, releases t's lock if this replica holds it, and hands
// the entry to the replicas waiting for it — in one round trip, within what
// is left of the budget. A write that fails, or for which no budget is left,
// is kept for later.
func (s *shared) store(key cache.Key, e cache.Entry[result], ok bool, now time.Time, t *turn) {
	var w *pendingWrite
	if ok && e.Expires.After(now) {
		name := s.entryName(key)
		w = &pendingWrite{key: key, id: e.ID, at: now, name: name, value: s.seal(name, s.encode(e, now)), expires: e.Expires}
	}
	budget := s.budget
	if t != nil {
		budget -= t.spent
	}
	if s.off() || budget <= 0 {
		s.keep(w) // the lock, if held, expires by itself
		return
	}
	var keys []string
	var values [][]byte
	var ttls []time.Duration
	batch := s.pending(sharedFlushBatch)
	if w != nil {
		batch = append(batch, *w)
	}
	for _, p := range batch {
		if !s.writable(p, now) {
			continue
		}
		keys, values, ttls = p.append(s, keys, values, ttls, now)
	}
	lock, msg := "", []byte(nil)
	if t != nil && t.locked {
		lock = t.lock
		var value []byte
		if w != nil {
			value = w.value
		}
		msg = s.message(msgFilled, append(append([]byte{byte(len(t.name))}, t.name...), value...))
	}
	if len(keys) == 0 && lock == "" {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, budget)
	defer cancel()
	if err := s.sc.Store(ctx, keys, values, ttls, lock, s.owner, s.channel, msg); err != nil {
		s.failed("store", err)
		for _, p := range batch {
			s.keep(&p)
		}
		return
	}
	s.ok()
}

// append adds p's entry and its index entry to a Store's arguments.
func (p pendingWrite) append(s *shared, keys []string, values [][]byte, ttls []time.Duration, now time.Time) ([]string, [][]byte, []time.Duration) {
	ttl := p.expires.Sub(now)
	keys, values, ttls = append(keys, p.name), append(values, p.value), append(ttls, ttl)
	if p.id != "" {
		idx := s.indexName(p.id)
		keys, values, ttls = append(keys, idx), append(values, s.seal(idx, []byte(p.name))), append(ttls, ttl)
	}
	return keys, values, ttls
}

// writable reports whether a pending write is still worth writing: live, and
// not revoked since it was verified.
func (s *shared) writable(p pendingWrite, now time.Time) bool {
	return p.expires.After(now) && !s.revokedSince(p.key, p.id, p.at)
}

// keep adds w to the pending writes (the oldest dropped beyond the bound).
func (s *shared) keep(w *pendingWrite) {
	if w == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.writes) >= sharedMaxPending {
		s.writes = append(s.writes[:0], s.writes[1:]...)
	}
	s.writes = append(s.writes, *w)
}

// pending takes up to n pending writes.
func (s *shared) pending(n int) []pendingWrite {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = min(n, len(s.writes))
	out := append([]pendingWrite(nil), s.writes[:n]...)
	s.writes = append(s.writes[:0], s.writes[n:]...)
	return out
}

// The kinds of messages on the channel. Each message is sealed under the
// channel's name and carries its sender's time and a nonce.
const (
	msgKey     = 'k' // Invalidate: revoked at (8 bytes, ns), the SHA-256 of a token
	msgID      = 'i' // InvalidateID: revoked at (8 bytes, ns), a token ID
	msgBackoff = 'b' // Clerk asked to wait: status (2 bytes), until (8 bytes, ns)
	msgFilled  = 'f' // a lock released: name length (1 byte), entry name, the sealed entry (none: no result)
)

// message returns a sealed message of kind with body, stamped with the time
// and a fresh nonce.
func (s *shared) message(kind byte, body []byte) []byte {
	msg := make([]byte, 0, 1+8+16+len(body))
	msg = append(msg, kind)
	msg = binary.BigEndian.AppendUint64(msg, uint64(s.now().UnixNano()))
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	msg = append(msg, nonce[:]...)
	return s.seal(s.channel, append(msg, body...))
}

// revocation returns the message that revokes ref ("k"+key or "i"+ID) as of
// at.
func (s *shared) revocation(kind byte, at time.Time, ref string) []byte {
	body := binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano()))
	return s.message(kind, append(body, ref...))
}

// invalidateKey drops the token whose key is key from every replica.
func (s *shared) invalidateKey(key cache.Key) {
	now := s.now()
	s.revoked.add("k"+string(key[:]), now, now)
	s.invalidate(s.revocation(msgKey, now, string(key[:])))
}

// invalidateID drops the token with ID id from every replica.
func (s *shared) invalidateID(id string) {
	now := s.now()
	s.revoked.add("i"+id, now, now)
	s.invalidate(s.revocation(msgID, now, id))
}

// invalidate sends a revocation: the shared entries it names deleted, the
// message published. If that fails, it is kept and sent again when the
// subscription is re-established; this replica honours it meanwhile.
func (s *shared) invalidate(msg []byte) {
	if s.off() || !s.send(msg) {
		s.mu.Lock()
		if len(s.revokes) >= sharedMaxPending {
			s.revokes = append(s.revokes[:0], s.revokes[1:]...)
		}
		s.revokes = append(s.revokes, msg)
		s.retryLater()
		s.mu.Unlock()
	}
}

// retryLater starts, unless it runs, the goroutine that sends the kept
// revocations every sharedRetry until none is left: a subscription that
// lives through an outage (a Redis that hung, then answered again) never
// calls onSubscribed, and a replica that gets no miss never calls Redis.
// s.mu is held.
func (s *shared) retryLater() {
	if s.resend || s.ctx.Err() != nil {
		return // closing: close waits for the one started before
	}
	s.resend = true
	s.resends.Add(1)
	go func() {
		defer s.resends.Done()
		t := time.NewTicker(sharedRetry)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
			}
			s.resendKept()
			s.mu.Lock()
			if len(s.revokes) == 0 {
				s.resend = false
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
		}
	}()
}

// send deletes the shared entries that the revocation msg names and
// publishes it; false if either failed.
func (s *shared) send(msg []byte) bool {
	ctx, cancel := context.WithTimeout(s.ctx, s.budget)
	defer cancel()
	body, _ := s.open(s.channel, msg)
	kind, ref := body[0], string(body[1+8+16+8:])
	var names []string
	switch kind {
	case msgKey:
		names = []string{s.entryName(cache.Key([]byte(ref)))}
	case msgID:
		idx := s.indexName(ref)
		names = []string{idx}
		b, found, err := s.sc.Get(ctx, idx, sharedMaxValue)
		if err != nil {
			s.failed("get", err)
			return false
		}
		if name, ok := s.open(idx, b); found && ok {
			names = append(names, string(name))
		}
	}
	if err := s.sc.Delete(ctx, names...); err != nil {
		s.failed("delete", err)
		return false
	}
	if err := s.sc.Publish(ctx, s.channel, msg); err != nil {
		s.failed("publish", err)
		return false
	}
	s.ok()
	return true
}

// publishBackoff tells every replica that Clerk asked to wait for d.
func (s *shared) publishBackoff(status int, d time.Duration) {
	body := binary.BigEndian.AppendUint16(nil, uint16(status))
	body = binary.BigEndian.AppendUint64(body, uint64(s.now().Add(d).UnixNano()))
	ctx, cancel := context.WithTimeout(s.ctx, s.budget)
	defer cancel()
	if err := s.sc.Publish(ctx, s.channel, s.message(msgBackoff, body)); err != nil {
		s.failed("publish", err)
	}
}

// onMessage handles a message of the channel. One that does not
// authenticate, is stale (sent more than sharedMsgAge ago, or later than now
// by as much) or was heard before is counted and dropped.
func (s *shared) onMessage(b []byte) {
	msg, ok := s.open(s.channel, b)
	if !ok || len(msg) < 1+8+16 {
		s.rejected.Add(1)
		return
	}
	now := s.now()
	sent := time.Unix(0, int64(binary.BigEndian.Uint64(msg[1:])))
	if d := now.Sub(sent); d > sharedMsgAge || d < -sharedMsgAge || !s.nonces.add(string(msg[9:25]), now, now) {
		s.rejected.Add(1)
		return
	}
	kind, body := msg[0], msg[25:]
	switch {
	case (kind == msgKey || kind == msgID) && len(body) > 8:
		at, ref := time.Unix(0, int64(binary.BigEndian.Uint64(body))), body[8:]
		if kind == msgKey && len(ref) == len(cache.Key{}) {
			s.revoked.add("k"+string(ref), at, now)
			s.l1.Remove(cache.Key(ref))
		} else if kind == msgID {
			s.revoked.add("i"+string(ref), at, now)
			s.l1.InvalidateID(string(ref))
		}
	case kind == msgBackoff && len(body) == 10:
		d := time.Unix(0, int64(binary.BigEndian.Uint64(body[2:]))).Sub(now)
		if d > 0 {
			s.backoff.open(now, &clerkapi.APIError{StatusCode: int(binary.BigEndian.Uint16(body)), RetryAfter: d})
		}
	case kind == msgFilled && len(body) > 0 && len(body) > int(body[0]):
		name, value := string(body[1:1+int(body[0])]), body[1+int(body[0]):]
		s.mu.Lock()
		ch := s.waiting[name]
		s.mu.Unlock()
		if ch != nil {
			select {
			case ch <- append([]byte{}, value...):
			default:
			}
		}
	default:
		s.rejected.Add(1)
	}
}

// onSubscribed runs each time the subscription is (re)established: the
// shared cache is back, so the revocations and results kept during the
// outage are sent, and the Verifier's own cache is retired (Verifier.purgeLocal),
// since revocations may have been missed meanwhile.
func (s *shared) onSubscribed() {
	s.ok()             // the subscription is Redis answering: an outage ends here
	s.retryAt.Store(0) // no need to wait for the retry
	s.purges.Add(1)
	s.purge()
	if !s.resendKept() {
		return
	}
	for {
		s.mu.Lock()
		n := len(s.writes)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		before := s.errs.Load() + s.busy.Load()
		s.store(cache.Key{}, cache.Entry[result]{}, false, s.now(), nil)
		if s.errs.Load()+s.busy.Load() != before {
			return
		}
	}
}

// resendKept sends the revocations kept during an outage, oldest first, each
// with a fresh time and nonce; false if the shared cache is left alone or one
// failed (it and the rest are kept again).
func (s *shared) resendKept() bool {
	s.mu.Lock()
	n := len(s.revokes)
	s.mu.Unlock()
	if n == 0 {
		return true
	}
	if s.off() { // down: this is a try like any other (see off)
		return false
	}
	s.mu.Lock()
	revokes := s.revokes
	s.revokes = nil
	s.mu.Unlock()
	for i, msg := range revokes {
		body, _ := s.open(s.channel, msg)
		at := time.Unix(0, int64(binary.BigEndian.Uint64(body[1+8+16:])))
		again := s.revocation(body[0], at, string(body[1+8+16+8:])) // a fresh time and nonce
		if !s.send(again) {
			s.mu.Lock()
			s.revokes = append(revokes[i:], s.revokes...)
			s.retryLater()
			s.mu.Unlock()
			return false
		}
	}
	return true
}

// remembered is a bounded set of strings, each remembered for keep with a
// time; the oldest are forgotten first. Safe for concurrent use.
type remembered struct {
	max  int
	keep time.Duration

	mu    sync.Mutex
	at    map[string]time.Time
	order []rememberedRef // by insertion
}

type rememberedRef struct {
	ref   string
	until time.Time
}

// add remembers ref with time at (from now on, for keep); false if ref was
// there already (its time is then the later of the two).
func (r *remembered) add(ref string, at, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at == nil {
		r.at = map[string]time.Time{}
	}
	for len(r.order) > 0 && (len(r.order) >= r.max || !now.Before(r.order[0].until)) {
		if old := r.order[0]; r.at[old.ref].Add(r.keep).Equal(old.until) || len(r.order) >= r.max {
			delete(r.at, old.ref)
		}
		r.order = r.order[1:]
	}
	prev, seen := r.at[ref]
	if !seen || at.After(prev) {
		r.at[ref] = at
		r.order = append(r.order, rememberedRef{ref: ref, until: at.Add(r.keep)})
	}
	return !seen
}

// get returns the time remembered for ref.
func (r *remembered) get(ref string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.at[ref]
	return at, ok
}

// sharedEntry is the payload of a shared cache value: a cache entry of the
// Verifier's own, as JSON (sealed by shared.seal).
type sharedEntry struct {
	At       int64  `json:"a"`           // when it was verified, Unix ns
	Expires  int64  `json:"e"`           // the entry's expiry, Unix ns
	Negative bool   `json:"n,omitempty"` // a refusal
	Reason   string `json:"r,omitempty"` // the refusal's reason
	ID       string `json:"i,omitempty"`
	Token    *Token `json:"t,omitempty"` // a valid token
	Valid    int64  `json:"v,omitempty"` // result.expires, Unix ns (0: never)
}

func (s *shared) encode(e cache.Entry[result], at time.Time) []byte {
	w := sharedEntry{At: at.UnixNano(), Expires: e.Expires.UnixNano(), Negative: e.Negative, ID: e.ID}
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

// decode returns the entry sealed under name in b and when it was verified;
// ok is false for anything that does not authenticate or is not a whole
// entry. An entry filled from the shared cache is not refreshed ahead: its
// TTL ends, and the next miss finds the newer one or asks Clerk.
func (s *shared) decode(name string, b []byte) (e cache.Entry[result], at time.Time, ok bool) {
	payload, ok := s.open(name, b)
	if !ok {
		return e, at, false
	}
	var w sharedEntry
	if json.Unmarshal(payload, &w) != nil || w.Expires == 0 || w.At == 0 {
		return e, at, false
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
		return e, at, false
	}
	return e, time.Unix(0, w.At), true
}
