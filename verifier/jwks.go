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
	// JWKSTTL is how long fetched keys are used before the next JWT that
	// needs one fetches them again (as @clerk/backend does).
	JWKSTTL = 5 * time.Minute
	// JWKSMinRefetch is the least time between two fetches caused by a key ID
	// missing from a fresh set, or by a failed fetch while older keys remain
	// usable: a flood of tokens with made-up key IDs costs Clerk at most one
	// call per interval.
	JWKSMinRefetch = 30 * time.Second
	// JWKSMaxStale is how long fetched keys stay usable while Clerk cannot be
	// reached for new ones. Past it, with no fresh keys, JWTs are
	// ErrUnavailable.
	JWKSMaxStale = time.Hour
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
	err     error                     // the last fetch's error (mapped), nil if it succeeded
}

// usable reports whether the snapshot's keys may still be used at now.
func (s *keySnapshot) usable(now time.Time) bool {
	return s != nil && !s.fetched.IsZero() && now.Sub(s.fetched) < JWKSMaxStale
}

// errUnknownKey: the JWT's kid is not in the instance's key set.
var errUnknownKey = &InvalidTokenError{Reason: "JWT signed by an unknown key"}

// signingKey returns the public key with ID kid, fetching the JWKS when the
// cached set is older than JWKSTTL, or when kid is not in it and the last
// fetch is older than JWKSMinRefetch. It returns errUnknownKey (invalid) when
// usable keys lack kid, and the fetch's ErrUnavailable or ErrMisconfigured
// error when no keys are usable: it never calls a token invalid for want of
// keys.
func (v *Verifier) signingKey(kid string) (*rsa.PublicKey, error) {
	now := v.clock.now()
	s := v.jwks.state.Load()
	if s.usable(now) {
		recent := now.Sub(s.tried) < JWKSMinRefetch
		fresh := now.Sub(s.fetched) < JWKSTTL
		if k := s.keys[kid]; k != nil && (fresh || recent) {
			return k, nil // fresh, or stale while a recent refresh failed
		}
		if recent {
			return nil, errUnknownKey
		}
	}
	s = v.refreshJWKS(s)
	if !s.usable(v.clock.now()) {
		return nil, s.err
	}
	if k := s.keys[kid]; k != nil {
		return k, nil
	}
	return nil, errUnknownKey
}

// refreshJWKS fetches the JWKS once for all concurrent callers, on a context
// detached from theirs, bounded by WithTimeout and cancelled by Close, and
// returns the new snapshot. seen is the snapshot the caller judged too old: if
// another fetch has ended since, its outcome is returned without a call.
// A failed fetch keeps the previous keys (see JWKSMaxStale).
func (v *Verifier) refreshJWKS(seen *keySnapshot) *keySnapshot {
	r, _, _ := v.jwks.flights.Do("jwks", func() (any, error) {
		if cur := v.jwks.state.Load(); cur != seen {
			return cur, nil
		}
		ctx, cancel := context.WithTimeout(v.closing, v.cfg.timeout)
		defer cancel()
		v.stats.jwks.Add(1)
		set, err := v.client.JWKS(ctx)
		var keys map[string]*rsa.PublicKey
		if err == nil {
			keys, err = parseJWKS(set)
		}
		next := &keySnapshot{tried: v.clock.now()}
		if err != nil {
			next.err = v.jwksError(ctx, err)
			if seen != nil {
				next.keys, next.fetched = seen.keys, seen.fetched
			}
		} else {
			next.keys, next.fetched = keys, next.tried
		}
		v.jwks.state.Store(next)
		return next, nil
	})
	return r.(*keySnapshot)
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
