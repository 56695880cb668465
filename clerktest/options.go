package clerktest

import (
	"errors"
	"strings"
	"time"
)

type config struct {
	now       func() time.Time
	secretKey string
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
