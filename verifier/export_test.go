package verifier

import (
	"time"

	"github.com/m2mauth/m2mauth/internal/wire"
)

// CheckSyntax exposes the local syntax check of step 1 to the external tests,
// which build Clerk-shaped tokens.
func CheckSyntax(tok string) error {
	if _, err := checkSyntax(tok); err != nil {
		return err
	}
	return nil
}

// PurgeLocal is what the shared cache calls when its subscription is
// (re)established, for tests without one.
func PurgeLocal(v *Verifier) { v.purgeLocal() }

// PurgeInterval is how often a purge grants refills.
const PurgeInterval = purgeInterval

// WaitForRefreshes returns when the background refreshes started so far have
// ended: tests use it as the join point of a refresh, instead of sleeping.
func WaitForRefreshes(v *Verifier) { v.refreshes.Wait() }

// WithoutLocalJWT sends JWT-format tokens to Clerk's verify endpoint even
// with a Clerk secret key, as a machine key does: tests compare the two paths.
func WithoutLocalJWT() Option {
	return func(c *config) error {
		c.localJWT = false
		return nil
	}
}

// WithDefaultLogger undoes an earlier WithLogger: the Verifier logs as it
// does without one (Warn and Error to slog.Default()). The tests' verifiers
// are quiet by default; the tests of the default logging use it.
func WithDefaultLogger() Option {
	return func(c *config) error {
		c.logger = nil
		return nil
	}
}

// The unexported causes and timings, for the external tests.
var (
	ErrBackoff     = errBackoff
	ErrOverloaded  = errOverloaded
	ErrBreakerOpen = errBreakerOpen
	ErrClosed      = errClosed
)

const (
	JWKSTTL           = jwksTTL
	JWKSMinRefetch    = jwksMinRefetch
	JWKSMaxStale      = jwksMaxStale
	ReadyTTL          = readyTTL
	JWTCategory       = wire.JWTCategory
	JWTLeeway         = wire.JWTLeeway
	MaxTokenLength    = wire.MaxTokenLength
	DefaultMaxBackoff = 60 * time.Second
)
