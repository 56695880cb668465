package m2mclient

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// TokenSource creates M2M tokens for one machine and hands out a cached live
// one, replacing it ahead of its expiry. It is safe for concurrent use by
// multiple goroutines: a live cached token costs an atomic load and a clock
// read, and however many callers need a new token at once, one create call is
// made for all of them.
type TokenSource struct {
	api    *clerkapi.Client
	params clerkapi.CreateParams // without MinRemainingTTLSeconds
	cfg    config

	cur      atomic.Pointer[entry]   // nil: no token (none yet, or invalidated)
	retryAt  atomic.Int64            // unix ns; no refresh-ahead before it after a failure
	holdOff  atomic.Pointer[holdOff] // Clerk's Retry-After: no create call before it
	forceNew atomic.Bool             // next create omits min_remaining_ttl_seconds
	flights  singleflight.Group

	creates, refreshes, invalidations, failures atomic.Int64
}

// entry is one cached token with the local times that govern it.
type entry struct {
	tok         *Token
	refreshAt   time.Time // replace from here on
	expiresAt   time.Time // unusable from here on; zero: never
	obtained    time.Time // when the create call that brought it was sent
	replacement bool      // created because the previous token was refused
}

// usable reports whether the token may still be sent at now.
func (e *entry) usable(now time.Time) bool {
	return e != nil && (e.expiresAt.IsZero() || now.Before(e.expiresAt))
}

// fresh reports whether the token is live and not yet due for refresh at now.
func (e *entry) fresh(now time.Time) bool {
	return e != nil && (e.expiresAt.IsZero() || now.Before(e.refreshAt))
}

// holdOff is a create call's failure with Clerk's Retry-After: until then,
// callers without a usable token get err at once instead of a new call.
type holdOff struct {
	until time.Time
	err   error
}

// Stats are a TokenSource's counters since it was created.
type Stats struct {
	Creates       int64 // successful create calls (tokens received from Clerk)
	Refreshes     int64 // of those, the ones that replaced a token: ahead of expiry, after it, or after Invalidate
	Invalidations int64 // Invalidate calls that dropped the current token
	Failures      int64 // failed create calls
}

// NewTokenSource returns a TokenSource that creates tokens with
// machineSecretKey, the calling machine's secret key (ak_…). It makes no
// network call; the first [TokenSource.Token] creates the first token.
func NewTokenSource(machineSecretKey string, opts ...Option) (*TokenSource, error) {
	if !strings.HasPrefix(machineSecretKey, "ak_") {
		return nil, errors.New("m2mclient: not a machine secret key (ak_…)")
	}
	cfg := config{margin: -1, timeout: DefaultTimeout, now: time.Now}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.minTTL > 0 {
		if cfg.format == clerkapi.FormatJWT {
			return nil, errors.New("m2mclient: min remaining TTL works only with opaque tokens")
		}
		if cfg.lifetime > 0 && cfg.minTTL >= cfg.lifetime {
			return nil, fmt.Errorf("m2mclient: min remaining TTL %v must be shorter than the lifetime %v", cfg.minTTL, cfg.lifetime)
		}
	}
	if cfg.margin >= 0 && cfg.lifetime > 0 && cfg.margin >= cfg.lifetime {
		return nil, fmt.Errorf("m2mclient: refresh margin %v must be shorter than the lifetime %v", cfg.margin, cfg.lifetime)
	}
	api, err := clerkapi.New(machineSecretKey, cfg.apiOptions...)
	if err != nil {
		return nil, fmt.Errorf("m2mclient: %w", err)
	}
	s := &TokenSource{api: api, cfg: cfg}
	s.params.TokenFormat = cfg.format
	if cfg.lifetime > 0 {
		s.params.SecondsUntilExpiration = clerkapi.Int64(int64(cfg.lifetime / time.Second))
	}
	if cfg.claims != nil {
		s.params.Claims = cfg.claims
	}
	return s, nil
}

// API returns the clerkapi client the source creates tokens with. It holds the
// machine's secret key, so it can list and revoke this machine's own tokens
// (see [clerkapi.Client.AllTokens] and [clerkapi.Client.RevokeToken]).
func (s *TokenSource) API() *clerkapi.Client { return s.api }

// Token returns a live token: the cached one while it is not due for refresh,
// else a new one from Clerk. When a refresh ahead of expiry fails, Token keeps
// returning the current token until it expires (asking Clerk again at most every
// few seconds, or after Clerk's Retry-After); only a source without a usable
// token returns the error, which wraps any [*clerkapi.APIError]. After an
// answer with Retry-After (429, 503), such a source returns that error without
// calling Clerk until the delay has passed.
//
// Callers that need a new token at the same time share one create call; each
// stops waiting when its own ctx ends, while the call goes on for the others,
// bounded by [WithTimeout].
func (s *TokenSource) Token(ctx context.Context) (*Token, error) {
	now := s.cfg.now()
	e := s.cur.Load()
	if e.fresh(now) {
		return e.tok, nil
	}
	return s.slowToken(ctx, e, now)
}

func (s *TokenSource) slowToken(ctx context.Context, e *entry, now time.Time) (*Token, error) {
	if e.usable(now) && now.UnixNano() < s.retryAt.Load() {
		return e.tok, nil // a refresh just failed: keep the live token for now
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if h := s.holdOff.Load(); h != nil && now.Before(h.until) && !e.usable(now) {
		return nil, h.err // Clerk asked us to wait (429, 503 with Retry-After)
	}
	detached := context.WithoutCancel(ctx)
	ch := s.flights.DoChan("token", func() (any, error) { return s.create(detached) })
	select {
	case r := <-ch:
		if r.Err != nil {
			// A failed refresh ahead of expiry: the current token still works.
			if cur := s.cur.Load(); cur.usable(s.cfg.now()) {
				return cur.tok, nil
			}
			return nil, r.Err
		}
		return r.Val.(*entry).tok, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// create runs once for all waiting callers: it makes one create call unless a
// fresh token arrived while they were lining up.
func (s *TokenSource) create(ctx context.Context) (*entry, error) {
	start := s.cfg.now()
	old := s.cur.Load()
	if old.fresh(start) {
		return old, nil
	}
	p := s.params
	forced := s.forceNew.Swap(false)
	if s.cfg.minTTL > 0 && !forced {
		p.MinRemainingTTLSeconds = clerkapi.Int64(int64(s.cfg.minTTL / time.Second))
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	defer cancel()
	m, err := s.api.CreateToken(ctx, p)
	if err == nil {
		err = checkCreated(m)
	}
	if err != nil {
		if forced {
			s.forceNew.Store(true)
		}
		s.failures.Add(1)
		delay := refreshRetryDelay
		err = fmt.Errorf("m2mclient: creating token: %w", err)
		var ae *clerkapi.APIError
		if errors.As(err, &ae) && ae.RetryAfter > 0 {
			delay = max(delay, ae.RetryAfter)
			s.holdOff.Store(&holdOff{until: s.cfg.now().Add(ae.RetryAfter), err: err})
		}
		s.retryAt.Store(s.cfg.now().Add(delay).UnixNano())
		return nil, err
	}
	e := s.newEntry(m, start)
	e.replacement = forced
	if !e.usable(s.cfg.now()) {
		s.failures.Add(1)
		return nil, errors.New("m2mclient: creating token: Clerk returned a token that has already expired")
	}
	s.creates.Add(1)
	if old != nil || forced {
		s.refreshes.Add(1)
	}
	s.retryAt.Store(0)
	s.holdOff.Store(nil)
	s.cur.Store(e)
	return e, nil
}

// checkCreated rejects a 2xx answer that cannot be used as a token.
func checkCreated(m *clerkapi.M2MToken) error {
	switch {
	case m.Token == "":
		return errors.New("clerk's answer carries no token value")
	case strings.ContainsAny(m.Token, " \t\r\n"):
		return errors.New("clerk's token value contains white space")
	case m.Revoked:
		return errors.New("clerk returned a revoked token")
	}
	return nil
}

// newEntry computes local expiry and refresh times for a token received after a
// request sent at start. The expiry is Clerk's, but never later than start plus
// the token's lifetime by Clerk's own clock, so a local clock running behind
// Clerk's cannot stretch a new token's life.
func (s *TokenSource) newEntry(m *clerkapi.M2MToken, start time.Time) *entry {
	var exp time.Time
	if !m.Expiration.IsZero() {
		exp = m.Expiration.Time
		if !m.CreatedAt.IsZero() {
			if byLife := start.Add(m.Expiration.Sub(m.CreatedAt.Time)); byLife.Before(exp) {
				exp = byLife
			}
		}
	}
	e := &entry{tok: newToken(m, s.cfg.format, exp), expiresAt: exp, obtained: start}
	if exp.IsZero() {
		return e
	}
	remaining := exp.Sub(start)
	margin := s.cfg.margin
	if margin < 0 {
		margin = min(remaining/5, MaxDefaultRefreshMargin)
	}
	if margin >= remaining {
		margin = remaining / 2
	}
	e.refreshAt = exp.Add(-margin)
	return e
}

// Invalidate drops the cached token if its value is tokenValue, typically
// because a service refused it (revoked, or its scopes changed), so the next
// Token call creates a new one, without min_remaining_ttl_seconds. A stale
// value — the token has been replaced already — changes nothing, so many
// requests refused at once cause a single refresh.
//
// A token that itself replaced a refused one is not dropped again within
// [ReplaceCooldown] of its creation: when a brand-new token is refused too, the
// cause is not the token (the caller is not in the service's scopes, or the
// service is misconfigured), and replacing it on every request would turn each
// request into a create call. Invalidate reports whether the token was dropped.
func (s *TokenSource) Invalidate(tokenValue string) bool {
	e := s.cur.Load()
	if e == nil || tokenValue == "" ||
		subtle.ConstantTimeCompare([]byte(e.tok.Value), []byte(tokenValue)) != 1 {
		return false
	}
	if e.replacement && s.cfg.now().Sub(e.obtained) < ReplaceCooldown {
		return false
	}
	// Set before the token is dropped, so that a create call that finds it
	// gone also finds the flag. (If the swap fails the flag only costs the next
	// create its min_remaining_ttl_seconds.)
	s.forceNew.Store(true)
	if !s.cur.CompareAndSwap(e, nil) {
		return false
	}
	s.retryAt.Store(0)
	s.invalidations.Add(1)
	return true
}

// Stats returns the source's counters.
func (s *TokenSource) Stats() Stats {
	return Stats{
		Creates:       s.creates.Load(),
		Refreshes:     s.refreshes.Load(),
		Invalidations: s.invalidations.Load(),
		Failures:      s.failures.Load(),
	}
}
