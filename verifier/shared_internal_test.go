package verifier

import (
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/cache"
)

func newTestShared(t *testing.T, key string) *shared {
	t.Helper()
	s, err := newShared(&Verifier{cfg: defaultConfig(), now: time.Now}, nil, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A shared value authenticates only under its own name and secret key, whole
// and of its version.
func TestSharedSealOpen(t *testing.T) {
	s := newTestShared(t, "sk_test_one")
	other := newTestShared(t, "sk_test_two")
	now := time.Unix(1_800_000_000, 0)
	tok := &Token{ID: "mt_1", Subject: "mch_1", Scopes: []string{"mch_2"}, ExpiresAt: now.Add(time.Hour)}
	e := cache.Entry[result]{Value: result{tok: tok, expires: tok.ExpiresAt}, ID: tok.ID, Expires: now.Add(time.Minute)}
	keyOne, keyTwo := cache.Key{1}, cache.Key{2}
	name := s.entryName(keyOne)
	sealed := s.seal(name, s.encode(e, now))

	flip := func(i int) []byte { b := append([]byte(nil), sealed...); b[i] ^= 1; return b }
	tests := []struct {
		name   string
		s      *shared
		key    string
		value  []byte
		wantOK bool
	}{
		{"genuine", s, name, sealed, true},
		{"under another name", s, s.entryName(keyTwo), sealed, false},
		{"another secret key", other, name, sealed, false},
		{"version flipped", s, name, flip(0), false},
		{"payload flipped", s, name, flip(5), false},
		{"MAC flipped", s, name, flip(len(sealed) - 1), false},
		{"truncated", s, name, sealed[:len(sealed)-1], false},
		{"MAC only", s, name, sealed[len(sealed)-32:], false},
		{"empty", s, name, nil, false},
		{"sealed garbage", s, name, s.seal(name, []byte("{not json")), false},
		{"sealed empty entry", s, name, s.seal(name, []byte("{}")), false},
		{"sealed positive without a subject", s, name, s.seal(name, []byte(`{"a":1,"e":1,"t":{}}`)), false},
		{"sealed without its time", s, name, s.seal(name, []byte(`{"e":1,"t":{"Subject":"mch_1"}}`)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, at, ok := tt.s.decode(tt.key, tt.value)
			if ok != tt.wantOK {
				t.Fatalf("got ok %v, want %v", ok, tt.wantOK)
			}
			if ok && (!at.Equal(now) || got.Value.tok.ID != tok.ID || !got.Expires.Equal(e.Expires) || !got.Value.expires.Equal(tok.ExpiresAt) || got.ID != tok.ID) {
				t.Errorf("got %+v, want %+v", got, e)
			}
		})
	}
}

// Names hold a fingerprint of the key and a keyed hash, never the input, and
// differ between secret keys.
func TestSharedNames(t *testing.T) {
	a, b := newTestShared(t, "sk_test_one"), newTestShared(t, "ak_two")
	in := cache.Key([]byte("mt_secretvalue__________________"))
	na, nb := a.entryName(in), b.entryName(in)
	if na == nb || a.ns == b.ns || a.channel == b.channel {
		t.Errorf("names under two keys: got %q and %q, want them apart", na, nb)
	}
	for _, n := range []string{na, nb, a.indexName("mt_secretvalue"), a.lockName(in), a.channel} {
		if strings.Contains(n, "secretvalue") || strings.Contains(n, "one") || strings.Contains(n, "two") {
			t.Errorf("name %q holds its input or the key", n)
		}
	}
	if got := newTestShared(t, "sk_test_one").entryName(in); got != na {
		t.Errorf("same key, same input: got %q, want %q (replicas must agree)", got, na)
	}
}
