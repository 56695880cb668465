package demo

import (
	"errors"
	"strings"
)

// DefaultAddr is where the examples listen unless ADDR says otherwise.
const DefaultAddr = "127.0.0.1:8080"

// Config is the examples' configuration, read from the environment.
type Config struct {
	// SecretKey is CLERK_SECRET_KEY (sk_…) or, if that is unset,
	// CLERK_MACHINE_SECRET_KEY (ak_…). Empty: start the embedded emulator.
	SecretKey string
	// APIURL is CLERK_API_URL; empty means Clerk's production API.
	APIURL string
	// Audience is M2M_AUDIENCE: this service's machine ID (mch_…).
	Audience string
	// Addr is ADDR, the listen address; default DefaultAddr.
	Addr string
}

// ConfigFromEnv reads a Config with getenv (os.Getenv in the mains).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		SecretKey: strings.TrimSpace(getenv("CLERK_SECRET_KEY")),
		APIURL:    strings.TrimSpace(getenv("CLERK_API_URL")),
		Audience:  strings.TrimSpace(getenv("M2M_AUDIENCE")),
		Addr:      strings.TrimSpace(getenv("ADDR")),
	}
	if c.SecretKey == "" {
		c.SecretKey = strings.TrimSpace(getenv("CLERK_MACHINE_SECRET_KEY"))
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	// With an instance key Clerk accepts any token of the instance; only the
	// audience check keeps other services' tokens out. Fail closed.
	if strings.HasPrefix(c.SecretKey, "sk_") && c.Audience == "" {
		return c, errors.New("demo: M2M_AUDIENCE (this service's machine ID, mch_…) is required with CLERK_SECRET_KEY")
	}
	return c, nil
}
