package verifier

import (
	"encoding/json"
	"time"

	"github.com/m2mauth/m2mauth/cache"
)

// sharedEntry is the payload of a shared cache value: a cache entry of the
// Verifier's own, as JSON (sealed by shared.seal).
type sharedEntry struct {
	Expires  int64  `json:"e"`           // the entry's expiry, Unix ns
	Negative bool   `json:"n,omitempty"` // a refusal
	Reason   string `json:"r,omitempty"` // the refusal's reason
	ID       string `json:"i,omitempty"`
	Token    *Token `json:"t,omitempty"` // a valid token
	Valid    int64  `json:"v,omitempty"` // result.expires, Unix ns (0: never)
}

func (s *shared) encode(e cache.Entry[result]) []byte {
	w := sharedEntry{Expires: e.Expires.UnixNano(), Negative: e.Negative, ID: e.ID}
	if e.Negative {
		w.Reason = e.Value.err.Reason
	} else {
		w.Token = e.Value.tok
		if !e.Value.expires.IsZero() {
			w.Valid = e.Value.expires.UnixNano()
		}
	}
	b, _ := json.Marshal(w) // plain fields: cannot fail
	return b
}

// decode returns the entry sealed under name in b; ok is false for anything
// that does not authenticate or is not a whole entry. An entry filled from
// the shared cache is not refreshed ahead: its TTL ends, and the next miss
// finds the newer one or asks Clerk.
func (s *shared) decode(name string, b []byte) (e cache.Entry[result], ok bool) {
	payload, ok := s.open(name, b)
	if !ok {
		return e, false
	}
	var w sharedEntry
	if json.Unmarshal(payload, &w) != nil || w.Expires == 0 {
		return e, false
	}
	e = cache.Entry[result]{ID: w.ID, Negative: w.Negative, Expires: time.Unix(0, w.Expires)}
	switch {
	case w.Negative && w.Reason != "":
		e.Value.err = &InvalidTokenError{Reason: w.Reason}
	case !w.Negative && w.Token != nil && w.Token.Subject != "":
		e.Value.tok = w.Token
		if w.Valid != 0 {
			e.Value.expires = time.Unix(0, w.Valid)
		}
	default:
		return e, false
	}
	return e, true
}
