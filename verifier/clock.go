package verifier

import "time"

// deadline returns wall, a time from Clerk (no monotonic reading), as an
// instant on now's clock: now shifted by wall − now, so that with time.Now it
// carries a monotonic reading and the expiry checks of later hits are immune
// to steps of the wall clock. The zero time stays zero ("never").
func deadline(wall, now time.Time) time.Time {
	if wall.IsZero() {
		return time.Time{}
	}
	return now.Add(wall.Sub(now))
}
