package verifier

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// Timing of the JWKS cache, on the Verifier's clock.
const (
	// jwksTTL is how long fetched keys are used before the next JWT that
	// needs one fetches them again (as @clerk/backend does).
	jwksTTL = 5 * time.Minute
	// jwksMinRefetch is the least time between two fetches of the JWKS,
	// whatever caused them (a key ID missing from a fresh set, no keys yet,
	// keys too stale, a failed fetch): a flood of JWTs costs Clerk at most one
	// call per interval. A Retry-After on /jwks makes it longer (capped by
	// Limits.MaxBackoff).
	jwksMinRefetch = 30 * time.Second
	// jwksMaxStale is how long fetched keys stay usable while Clerk cannot be
	// reached for new ones. Past it, with no fresh keys, JWTs are
	// ErrUnavailable.
	jwksMaxStale = time.Hour
)

// minRSABits is the smallest RSA modulus accepted from the JWKS.
const minRSABits = 2048

// jwksCache holds the instance's public keys. Its zero value is empty; the
// first JWT fetches the keys. Safe for concurrent use: readers load an
// immutable snapshot, one fetch at a time replaces it.
type jwksCache struct {
	state   atomic.Pointer[keySnapshot] // nil until the first fetch ends
	flights singleflight.Group          // one GET /jwks at a time
}

// keySnapshot is one outcome of fetching the JWKS. It is never modified.
type keySnapshot struct {
	keys    map[string]*rsa.PublicKey // by kid: RS256 signing keys only
	fetched time.Time                 // when keys were fetched; zero: never
	tried   time.Time                 // when the last fetch ended, failed or not
	next    time.Time                 // no fetch before it: tried + jwksMinRefetch, or Clerk's Retry-After
	err     error                     // the last fetch's error (mapped), nil if it succeeded

	retryCap time.Duration // the Verifier's retryCap, for refusal
}

// usable reports whether the snapshot's keys may still be used at now.
func (s *keySnapshot) usable(now time.Time) bool {
	return s != nil && !s.fetched.IsZero() && now.Sub(s.fetched) < jwksMaxStale
}

// due reports whether a JWT with key ID kid should fetch the JWKS at now: never
// before s.next, whatever the state (no keys yet after a failure, keys too
// stale, a kid missing, Clerk failing or rate limiting); after it, when there
// is no snapshot, the keys are older than jwksTTL or unusable, or kid is
// missing.
func (s *keySnapshot) due(kid string, now time.Time) bool {
	switch {
	case s == nil:
		return true
	case now.Before(s.next):
		return false
	}
	return !s.usable(now) || now.Sub(s.fetched) >= jwksTTL || s.keys[kid] == nil
}

// key returns the public key with ID kid from s at now: errUnknownKey when
// the keys are usable and the last fetch succeeded but lack kid; the last
// fetch's error when no keys are usable, or when kid is missing from keys
// kept after a failed fetch (a key added since may be on Clerk's side). It
// never calls a token invalid for want of keys.
func (s *keySnapshot) key(kid string, now time.Time) (*rsa.PublicKey, error) {
	if s.usable(now) {
		if k := s.keys[kid]; k != nil {
			return k, nil
		}
		if s.err == nil {
			return nil, errUnknownKey
		}
	}
	return nil, s.refusal(now)
}

// refusal is the error of a JWT that needs keys the snapshot cannot give:
// ErrMisconfigured as the last fetch found it, or ErrUnavailable with the time
// until the next fetch as RetryAfter (errBackoff too when Clerk asked to
// wait), capped like every RetryAfter.
func (s *keySnapshot) refusal(now time.Time) error {
	var ue *UnavailableError
	if !errors.As(s.err, &ue) {
		if s.err == nil { // keys too stale, not refetched yet: cannot happen after a fetch
			return &UnavailableError{Err: errNoKeys}
		}
		return s.err
	}
	cause := ue.Err
	if ae, ok := cause.(*clerkapi.APIError); ok && opens(ae) {
		cause = &backoffError{apiErr: ae}
	}
	wait := ceilSeconds(s.next.Sub(now))
	if wait <= 0 {
		wait = ue.RetryAfter
	}
	return &UnavailableError{RetryAfter: min(wait, s.retryCap), Err: cause}
}

// errNoKeys: no usable keys and no fetch has said why.
var errNoKeys = errors.New("verifier: no usable JWKS keys")

// errUnknownKey: the JWT's kid is not in the instance's key set.
var errUnknownKey = &InvalidTokenError{Reason: "JWT signed by an unknown key"}

// signingKey returns the public key with ID kid, fetching the JWKS when due
// (see keySnapshot.due): at most one GET /jwks per jwksMinRefetch, or per
// Clerk's Retry-After (capped by Limits.MaxBackoff) when it is longer, in every
// state, so a flood of JWTs with made-up kids, or of any JWTs while no keys
// are usable, costs Clerk at most that. It returns errUnknownKey (invalid)
// when freshly fetched keys lack kid, and ErrUnavailable or ErrMisconfigured
// when no keys are usable.
func (v *Verifier) signingKey(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	now := v.now()
	s := v.jwks.state.Load()
	if !s.due(kid, now) {
		return s.key(kid, now)
	}
	s, fetched := v.refreshJWKS(ctx, s)
	k, err := s.key(kid, v.now())
	if err != nil && fetched && s.err != nil {
		return nil, s.err // the fetch's own answer, as Clerk gave it (Retry-After capped)
	}
	return k, err
}

// refreshJWKS fetches the JWKS once for all concurrent callers, on a context
// detached from theirs, bounded by Limits.Timeout and cancelled by Close, and
// returns the new snapshot, and whether this caller waited for a fetch (its
// own or a concurrent caller's, shared). seen is the snapshot the caller
// judged due: if another fetch has ended since, its outcome is returned
// without a call.
// A failed fetch keeps the previous keys (see jwksMaxStale). The next fetch
// may come jwksMinRefetch later, or after Clerk's Retry-After (a 429, or a
// 5xx carrying one) capped by Limits.MaxBackoff when that is longer.
func (v *Verifier) refreshJWKS(parent context.Context, seen *keySnapshot) (*keySnapshot, bool) {
	type outcome struct {
		s       *keySnapshot
		fetched bool
	}
	r, _, _ := v.jwks.flights.Do("jwks", func() (any, error) {
		if cur := v.jwks.state.Load(); cur != seen {
			return outcome{cur, false}, nil
		}
		keys, err, mapped := v.fetchJWKS(parent, v.cfg.limits.Timeout)
		next := &keySnapshot{tried: v.now(), retryCap: v.retryCap()}
		wait := jwksMinRefetch
		if err != nil {
			var ae *clerkapi.APIError
			if errors.As(err, &ae) && opens(ae) {
				wait = max(wait, min(ae.RetryAfter, v.cfg.limits.MaxBackoff))
			}
			next.err = mapped
			if seen != nil {
				next.keys, next.fetched = seen.keys, seen.fetched
			}
		} else {
			next.keys, next.fetched = keys, next.tried
		}
		next.next = next.tried.Add(wait)
		v.jwks.state.Store(next)
		return outcome{next, true}, nil
	})
	o := r.(outcome)
	return o.s, o.fetched
}

// fetchJWKS makes one GET /jwks, on a context with parent's values (an
// Observer's span) but not its cancellation, bounded by timeout and
// cancelled by Close, and returns the keys, or the raw error and the error it
// maps to (see jwksError).
func (v *Verifier) fetchJWKS(parent context.Context, timeout time.Duration) (keys map[string]*rsa.PublicKey, raw, mapped error) {
	parent, observed := v.startCall(context.WithoutCancel(parent), EndpointJWKS, "") // WithObserver
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	stop := context.AfterFunc(v.closing, cancel) // Close cancels the fetch
	defer stop()
	v.stats.jwks.Add(1)
	set, raw := v.client.JWKS(ctx)
	v.sawClerk(ctx, raw)
	if raw == nil {
		keys, raw = parseJWKS(set)
	}
	if raw != nil {
		mapped = v.jwksError(ctx, raw)
	}
	observed(raw, mapped)
	return keys, raw, mapped
}

// parseJWKS keeps the set's RSA signing keys usable with RS256, parsed by
// go-jose; other keys are skipped. A set without any is an error: no JWT
// could be verified with it.
func parseJWKS(set *clerkapi.JWKS) (map[string]*rsa.PublicKey, error) {
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kid == "" || k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != string(jose.RS256)) {
			continue
		}
		b, err := json.Marshal(k)
		if err != nil {
			continue
		}
		var jk jose.JSONWebKey
		if err := jk.UnmarshalJSON(b); err != nil {
			continue
		}
		pub, ok := jk.Key.(*rsa.PublicKey)
		if !ok || pub.N.BitLen() < minRSABits {
			continue
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: the JWKS holds no RS256 signing key", clerkapi.ErrMalformedResponse)
	}
	return keys, nil
}

// jwksError maps a failed GET /jwks to the error the JWTs that needed it get:
// a 429 or 5xx, a network failure or a timeout is ErrUnavailable; any other
// answer (Clerk refusing our key, a redirect, a 404…) is ErrMisconfigured. A
// failed fetch never makes a token invalid.
func (v *Verifier) jwksError(ctx context.Context, err error) error {
	var ae *clerkapi.APIError
	if errors.As(err, &ae) {
		if s := ae.StatusCode; s != http.StatusTooManyRequests && s < 500 {
			// 401/403 to our key, or an answer Clerk never gives on /jwks
			// (a redirect, a 404, another 4xx): the key or the base URL.
			return v.misconfiguredAnswer(ae, endpointJWKS)
		}
		v.log.Debug("m2mauth verifier: fetching the JWKS failed", "status", ae.StatusCode, "retry_after", ae.RetryAfter, "trace_id", ae.TraceID)
		return v.unavailable(ae.RetryAfter, ae)
	}
	return v.noAnswer(ctx, "m2mauth verifier: fetching the JWKS failed", err)
}
