package verifier

import (
	"errors"

	"github.com/m2mauth/m2mauth/cache"
)

// refresh verifies a cached token again in the background (refresh-ahead,
// see WithRefreshAhead), sharing the flight of any concurrent miss of the same
// token. It returns at once. What Clerk answers replaces the entry: a new
// positive entry, or a refusal that makes the token invalid from then on. A
// refresh that gets no verdict leaves the entry until it expires. The
// goroutine is the Verifier's: Close cancels its call and waits for it.
func (v *Verifier) refresh(key cache.Key, token string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed.Load() {
		return
	}
	v.refreshes.Add(1)
	go func() {
		defer v.refreshes.Done()
		_, err, _ := v.flights.Do(string(key[:]), func() (any, error) {
			v.stats.refreshes.Add(1)
			d := v.resolveClerk(v.closing, token, nil)
			v.store(key, d, v.now())
			return d.result()
		})
		if err != nil && !errors.Is(err, ErrInvalidToken) {
			v.stats.refreshFailures.Add(1)
		}
	}()
}
