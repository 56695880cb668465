package middleware

import (
	"errors"
	"strings"
)

var errAudienceConflict = errors.New("middleware: New: WithAudience(machineID) and WithAnyAudience() contradict each other: keep one")

// audienceEnforcer is a Verifier that can tell whether every token it
// accepts was already granted to this service: *verifier.Verifier's
// EnforcesAudience is true with a machine secret key (ak_…), with which Clerk
// refuses tokens not granted to the key's machine, false with a Clerk secret
// key (sk_…). New treats a Verifier without the method (a VerifierFunc, a
// wrapper that does not forward it) as one that enforces nothing.
type audienceEnforcer interface {
	EnforcesAudience() bool
}

// WithAudience requires this service's own machine ID (mch_…) to be among the
// token's scopes; other tokens are refused with 403.
//
// With a Verifier that accepts tokens of any machine of the instance (a Clerk
// secret key, sk_…, or a custom Verifier without an EnforcesAudience method
// that reports true),
// New needs either an audience or WithAnyAudience. With a machine secret key
// (ak_…) Clerk already refuses tokens not granted to the key's machine, so no
// audience is needed; setting one costs nothing and also catches a key of the
// wrong machine.
//
// An empty machineID means "no audience", so that
// WithAudience(os.Getenv("M2M_AUDIENCE")) works unchanged with either kind of
// key: with an ak_ key it is accepted, with an sk_ key New fails with
// ErrNoAudience as if the option were absent. Any other value must be a
// machine ID: "mch_" and no white space. A later WithAudience replaces an
// earlier one.
//
// Default: no audience (which New accepts only from a Verifier whose
// EnforcesAudience reports true, or with WithAnyAudience).
func WithAudience(machineID string) Option {
	return func(c *config) error {
		if machineID != "" && (!strings.HasPrefix(machineID, "mch_") || strings.ContainsAny(machineID, " \t\r\n")) {
			return errors.New("middleware: WithAudience needs a machine ID (mch_…, no white space) or \"\" for none")
		}
		c.audience = machineID
		return nil
	}
}

// WithAnyAudience is the explicit opt-out of the audience check: a valid
// token of ANY machine of the Clerk instance is accepted, whatever machines
// it was granted to. With a Clerk secret key (sk_…) that means every machine
// of the instance can call this service, including machines scoped to
// nothing or to other services; use it only when the instance holds nothing
// but machines trusted to call here, or when WithAllowedSubjects or a
// WithCheck does the gatekeeping. With a machine secret key (ak_…) it changes
// nothing: Clerk still refuses tokens not granted to the key's machine.
//
// Together with a non-empty WithAudience it is contradictory, and New fails.
//
// Default: off (see WithAudience).
func WithAnyAudience() Option {
	return func(c *config) error {
		c.anyAud = true
		return nil
	}
}

// checkAudience is New's fail-closed rule: an Authenticator whose Verifier
// accepts any machine of the instance has an audience or an explicit opt-out.
func (c *config) checkAudience(v Verifier) error {
	if c.anyAud && c.audience != "" {
		return errAudienceConflict
	}
	if c.audience != "" || c.anyAud {
		return nil
	}
	if e, ok := v.(audienceEnforcer); ok && e.EnforcesAudience() {
		return nil
	}
	return ErrNoAudience
}
