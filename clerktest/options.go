package clerktest

import (
	"errors"
	"strings"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

type config struct {
	now         func() time.Time
	secretKey   string
	oauthUser   string
	oauthFormat clerkapi.TokenFormat
}

// An Option configures a Server.
type Option func(*config) error

// WithClock sets the clock the emulator reads for token creation, expiry,
// last_used_at, key rotation and the RateLimit fault, e.g. a [Clock]'s Now.
//
// Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("clerktest: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithSecretKey sets the instance's Clerk secret key instead of a random one.
// It must start with sk_test_ or sk_live_ and contain no white space.
//
// Default: sk_test_ followed by 40 random characters, new for every Server.
func WithSecretKey(key string) Option {
	return func(c *config) error {
		if !strings.HasPrefix(key, "sk_test_") && !strings.HasPrefix(key, "sk_live_") || len(key) < 12 {
			return errors.New("clerktest: secret key must look like sk_test_… or sk_live_…")
		}
		if strings.ContainsAny(key, " \t\r\n") {
			return errors.New("clerktest: secret key contains white space")
		}
		c.secretKey = key
		return nil
	}
}

// DefaultOAuthUserID is the user who grants consent at GET /oauth/authorize
// unless [WithOAuthUser] names another: every authorization code, and so
// every access token of the authorization-code flow, is issued to it.
const DefaultOAuthUserID = "user_2EmulatorOAuthTestUser00000"

// WithOAuthUser sets the user (user_ and 27 letters, digits or '_') on whose
// behalf GET /oauth/authorize grants consent without asking: the sub of the
// access tokens it leads to. The emulator has no users: the ID is not
// checked to exist anywhere.
//
// Default: [DefaultOAuthUserID].
func WithOAuthUser(userID string) Option {
	return func(c *config) error {
		if !userIDPattern.MatchString(userID) {
			return errors.New("clerktest: OAuth user must be a user ID (user_ and 27 letters, digits or '_')")
		}
		c.oauthUser = userID
		return nil
	}
}

// WithOAuthAccessTokenFormat sets the format of the access tokens that
// POST /oauth/token issues: clerkapi.FormatJWT (RFC 9068, typ at+jwt) or
// clerkapi.FormatOpaque (oat_…). It is instance-wide, as Clerk's
// oauth_jwt_access_tokens instance setting is. Tokens minted with
// [Server.CreateOAuthAccessToken] or POST /v1/__emulator/oauth_access_tokens
// take their own format.
//
// Default: clerkapi.FormatJWT, Clerk's default since 2026-01-08.
func WithOAuthAccessTokenFormat(f clerkapi.TokenFormat) Option {
	return func(c *config) error {
		if f != clerkapi.FormatJWT && f != clerkapi.FormatOpaque {
			return errors.New("clerktest: OAuth access token format must be jwt or opaque")
		}
		c.oauthFormat = f
		return nil
	}
}
