package wire

import "time"

// CeilSeconds returns d in whole seconds, rounded up: the delay-seconds of a
// Retry-After header (RFC 9110 §10.2.3) that waits at least d. It returns 0
// for d <= 0.
func CeilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
