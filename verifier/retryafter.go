package verifier

import (
	"time"

	"github.com/m2mauth/m2mauth/internal/wire"
)

// retryCap is the largest RetryAfter the Verifier ever returns: WithMaxBackoff,
// or DefaultMaxBackoff when the gate is disabled (WithMaxBackoff(0)). Clerk's
// Retry-After can name an hour; a caller told to wait that long over one busy
// moment would be worse off than one that asks again within a minute.
func (v *Verifier) retryCap() time.Duration {
	if v.cfg.maxBackoff > 0 {
		return v.cfg.maxBackoff
	}
	return DefaultMaxBackoff
}

// unavailable returns the ErrUnavailable error for cause, carrying retryAfter
// capped by retryCap.
func (v *Verifier) unavailable(retryAfter time.Duration, cause error) *UnavailableError {
	return &UnavailableError{RetryAfter: min(retryAfter, v.retryCap()), Err: cause}
}

// ceilSeconds rounds a wait up to whole seconds, at least one: the
// RetryAfter of every refusal.
func ceilSeconds(d time.Duration) time.Duration {
	return max(1, time.Duration(wire.CeilSeconds(d))) * time.Second
}
