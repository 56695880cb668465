package verifier_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/verifier"
)

func (e *env) jwksCalls() int64 { return e.srv.Calls(clerktest.EndpointJWKS) }

// jwt mints a JWT-format token of the caller machine.
func (e *env) jwt(p clerkapi.CreateParams) string {
	e.t.Helper()
	p.TokenFormat = clerkapi.FormatJWT
	return e.token(p)
}

// instanceKID is the kid of the emulator's signing key.
func (e *env) instanceKID() string { return e.srv.JWKS().Keys[0].Kid }

// rsaKey returns a fresh RSA key, one per test binary run and name.
var rsaKeys sync.Map

func rsaKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	if k, ok := rsaKeys.Load(name); ok {
		return k.(*rsa.PrivateKey)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := rsaKeys.LoadOrStore(name, k)
	return k2.(*rsa.PrivateKey)
}

// signJWT builds a compact JWS with go-jose: header typ JWT plus hdr, payload
// claims.
func signJWT(t testing.TB, key any, alg jose.SignatureAlgorithm, kid string, hdr map[jose.HeaderKey]any, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range hdr {
		opts = opts.WithHeader(k, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	machineA = "mch_" + strings.Repeat("a", 27)
	machineB = "mch_" + strings.Repeat("b", 27)
)

// claimsAt returns valid M2M claims issued at iat, with token ID number n.
func claimsAt(iat time.Time, n int) map[string]any {
	jti := []byte("mt_" + strings.Repeat("0", 32))
	for i := len(jti) - 1; n > 0; i-- {
		jti[i] = "0123456789abcdef"[n%16]
		n /= 16
	}
	return map[string]any{
		"iss": "https://clerk.example", "sub": machineA, "jti": string(jti),
		"iat": iat.Unix(), "nbf": iat.Unix(), "exp": iat.Add(time.Hour).Unix(),
	}
}

// keyServer is a minimal Backend API that serves GET /v1/jwks with keys the
// test controls and fails every other request; it counts both.
type keyServer struct {
	*httptest.Server
	keys        atomic.Pointer[jose.JSONWebKeySet]
	jwks, other atomic.Int64
}

func newKeyServer(t testing.TB, keys map[string]*rsa.PrivateKey) *keyServer {
	t.Helper()
	ks := &keyServer{}
	ks.setKeys(keys)
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/jwks" {
			ks.other.Add(1)
			http.Error(w, `{"errors":[{"code":"unexpected"}]}`, http.StatusInternalServerError)
			return
		}
		ks.jwks.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ks.keys.Load())
	}))
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) setKeys(keys map[string]*rsa.PrivateKey) {
	set := &jose.JSONWebKeySet{}
	for kid, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
	}
	ks.keys.Store(set)
}

// verifier returns a Verifier on ks with a Clerk secret key and clock clk.
func (ks *keyServer) verifier(t testing.TB, clk *clerktest.Clock, opts ...verifier.Option) *verifier.Verifier {
	t.Helper()
	return newTestVerifier(t, "sk_test_keyserverkey", ks.URL+"/v1", append([]verifier.Option{verifier.WithClock(clk.Now)}, opts...)...)
}

// TestLocalJWT: a JWT minted by the emulator verifies without Clerk's verify
// endpoint, with one JWKS call, into the Token Clerk's verify endpoint gives.
func TestLocalJWT(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims any
	}{
		{"custom claims", json.RawMessage(`{"role":"billing","n":3,"nested":{"a":[1,2]},"aud":"ignored","sub":"ignored"}`)},
		{"no custom claims", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tok := e.jwt(clerkapi.CreateParams{Claims: tc.claims})
			local := e.verifier()
			got, err := local.Verify(context.Background(), tok, "")
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if v, j := e.verifyCalls(), e.jwksCalls(); v != 0 || j != 1 {
				t.Errorf("got %d verify and %d JWKS calls, want 0 and 1", v, j)
			}
			if _, err := local.Verify(context.Background(), tok, ""); err != nil {
				t.Fatalf("second Verify: %v", err)
			}
			if st := local.Stats(); st.LocalJWTChecks != 1 || st.JWKSFetches != 1 || st.Hits != 1 || st.UpstreamCalls != 0 {
				t.Errorf("got stats %+v, want 1 local check, 1 JWKS fetch, 1 hit, 0 upstream calls", st)
			}

			want, err := e.verifier(verifier.WithoutLocalJWT()).Verify(context.Background(), tok, "")
			if err != nil {
				t.Fatalf("Verify through Clerk: %v", err)
			}
			if e.verifyCalls() != 1 {
				t.Fatalf("got %d verify calls, want 1 from the WithoutLocalJWT verifier", e.verifyCalls())
			}
			if got.ID != want.ID || got.Subject != want.Subject || got.Format != want.Format || got.Format != clerkapi.FormatJWT {
				t.Errorf("got ID %q subject %q format %q, want %q %q %q", got.ID, got.Subject, got.Format, want.ID, want.Subject, want.Format)
			}
			if !reflect.DeepEqual(got.Scopes, want.Scopes) || !got.HasScope(e.callee.ID) {
				t.Errorf("got scopes %q, want %q (with %s)", got.Scopes, want.Scopes, e.callee.ID)
			}
			if !got.ExpiresAt.Equal(want.ExpiresAt) || !got.CreatedAt.Equal(want.CreatedAt) {
				t.Errorf("got expires %v created %v, want %v %v", got.ExpiresAt, got.CreatedAt, want.ExpiresAt, want.CreatedAt)
			}
			if !jsonEqual(t, got.Claims, want.Claims) {
				t.Errorf("got claims %s, want %s", got.Claims, want.Claims)
			}
			if tc.claims == nil && got.Claims != nil {
				t.Errorf("got claims %s, want nil", got.Claims)
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		t.Fatalf("claims are not JSON: %s / %s", a, b)
	}
	return reflect.DeepEqual(x, y)
}

// TestLocalJWTConcurrent: 1,000 fresh JWTs verified at once cost one JWKS
// call; one cold JWT verified 100 times at once costs one signature check.
func TestLocalJWTConcurrent(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	const n = 1000
	toks := make([]string, n)
	for i := range toks {
		toks[i] = e.jwt(clerkapi.CreateParams{})
	}
	run := func(tok func(i int) string, n int) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if _, err := v.Verify(context.Background(), tok(i), ""); err != nil {
					t.Errorf("Verify #%d: %v", i, err)
				}
			})
		}
		wg.Wait()
	}
	run(func(i int) string { return toks[i] }, n)
	if v, j := e.verifyCalls(), e.jwksCalls(); v != 0 || j != 1 {
		t.Errorf("got %d verify and %d JWKS calls, want 0 and 1", v, j)
	}
	if got := v.Stats().LocalJWTChecks; got != n {
		t.Errorf("got %d local checks, want %d", got, n)
	}

	one := e.jwt(clerkapi.CreateParams{})
	run(func(int) string { return one }, 100)
	if got := v.Stats().LocalJWTChecks; got != n+1 {
		t.Errorf("got %d local checks after a burst of one cold JWT, want %d", got, n+1)
	}
}

// TestLocalJWTInvalid: JWTs the local check refuses, with no call to Clerk's
// verify endpoint; the refusal is cached.
func TestLocalJWTInvalid(t *testing.T) {
	e := newEnv(t)
	good := e.jwt(clerkapi.CreateParams{})
	kid := e.instanceKID()
	other := rsaKey(t, "other")
	parts := strings.Split(good, ".")
	payload := claimsAt(t0, 1)
	payload["sub"] = e.caller.ID
	catHdr := map[jose.HeaderKey]any{"cat": verifier.JWTCategory}
	for _, tc := range []struct {
		name, token, reason string
	}{
		// The payload no longer decodes: of no kind, refused before any check
		// of its signature, and not cached (telling the kind costs no call).
		{"tampered payload", parts[0] + "." + parts[1][:len(parts[1])-2] + "AA." + parts[2], "neither an M2M token nor an OAuth"},
		{"tampered signature", parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4] + "AAAA", "signature"},
		{"signed by another key, same kid", signJWT(t, other, jose.RS256, kid, catHdr, payload), "signature"},
		{"unknown kid", signJWT(t, other, jose.RS256, "ins_other", catHdr, payload), "unknown key"},
		{"foreign category", signJWT(t, other, jose.RS256, kid, map[jose.HeaderKey]any{"cat": "cl_session"}, payload), "category"},
		{"HS256", signJWT(t, []byte(strings.Repeat("k", 32)), jose.HS256, kid, catHdr, payload), "RS256"},
		{"no kid", signJWT(t, other, jose.RS256, "", catHdr, payload), "key ID"},
		{"header of another token", parts[0] + "." + strings.Split(e.jwt(clerkapi.CreateParams{}), ".")[1] + "." + parts[2], "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := e.verifier()
			e.srv.ResetCalls()
			for range 2 {
				_, err := v.Verify(context.Background(), tc.token, "")
				var inv *verifier.InvalidTokenError
				if !errors.As(err, &inv) {
					t.Fatalf("got %v, want an *InvalidTokenError", err)
				}
				if !strings.Contains(inv.Reason, tc.reason) || strings.Contains(err.Error(), tc.token[len(tc.token)-12:]) {
					t.Errorf("got reason %q, want one about %q without the token", inv.Reason, tc.reason)
				}
			}
			if got := e.verifyCalls(); got != 0 {
				t.Errorf("got %d verify calls, want 0", got)
			}
			wantNeg := uint64(1)
			if tc.name == "tampered payload" {
				wantNeg = 0
			}
			if st := v.Stats(); st.NegativeHits != wantNeg || st.JWKSFetches > 1 {
				t.Errorf("got %d negative hits and %d JWKS fetches, want %d and at most 1", st.NegativeHits, st.JWKSFetches, wantNeg)
			}
		})
	}
}

// TestLocalJWTClaims: crafted JWTs signed with a key the test serves as the
// JWKS: which claims and headers the local check accepts, and the Token it
// builds from them.
func TestLocalJWTClaims(t *testing.T) {
	key := rsaKey(t, "instance")
	ks := newKeyServer(t, map[string]*rsa.PrivateKey{"ins_test": key})
	cat := map[jose.HeaderKey]any{"cat": verifier.JWTCategory}
	with := func(n int, set map[string]any, drop ...string) map[string]any {
		c := claimsAt(t0, n)
		for k, v := range set {
			c[k] = v
		}
		for _, k := range drop {
			delete(c, k)
		}
		return c
	}
	for _, tc := range []struct {
		name       string
		hdr        map[jose.HeaderKey]any
		claims     map[string]any
		wantErr    string // reason; "" for valid
		wantScopes []string
		wantClaims string
		wantExpiry time.Time
	}{
		{name: "no cat header (older tokens)", claims: with(1, nil), wantExpiry: t0.Add(time.Hour)},
		{name: "scopes claim", hdr: cat, claims: with(2, map[string]any{"scopes": machineB + " " + machineA, "aud": "x"}),
			wantScopes: []string{machineB, machineA}, wantExpiry: t0.Add(time.Hour)},
		{name: "aud string", hdr: cat, claims: with(3, map[string]any{"aud": machineB}), wantScopes: []string{machineB}, wantExpiry: t0.Add(time.Hour)},
		{name: "aud array", hdr: cat, claims: with(4, map[string]any{"aud": []string{machineA, machineB}}),
			wantScopes: []string{machineA, machineB}, wantExpiry: t0.Add(time.Hour)},
		{name: "custom claims", hdr: cat, claims: with(5, map[string]any{"role": "x", "iss": "y"}), wantClaims: `{"role":"x"}`, wantExpiry: t0.Add(time.Hour)},
		{name: "no exp: never expires", hdr: cat, claims: with(6, nil, "exp")},
		{name: "nbf within skew", hdr: cat, claims: with(7, map[string]any{"nbf": t0.Add(4 * time.Second).Unix()}), wantExpiry: t0.Add(time.Hour)},
		{name: "foreign cat", hdr: map[jose.HeaderKey]any{"cat": "cl_other"}, claims: with(8, nil), wantErr: "category"},
		{name: "non-string cat", hdr: map[jose.HeaderKey]any{"cat": 1}, claims: with(9, nil), wantErr: "category"},
		{name: "subject not a machine: no kind", hdr: cat, claims: with(10, map[string]any{"sub": "user_123"}), wantErr: "neither an M2M token nor an OAuth"},
		{name: "no subject: no kind", hdr: cat, claims: with(11, nil, "sub"), wantErr: "neither an M2M token nor an OAuth"},
		{name: "subject mch_ but not a machine ID", hdr: cat, claims: with(19, map[string]any{"sub": "mch_short"}), wantErr: "machine ID"},
		{name: "jti not a token ID", hdr: cat, claims: with(12, map[string]any{"jti": "oat_123"}), wantErr: "token ID"},
		{name: "expired", hdr: cat, claims: with(13, map[string]any{"exp": t0.Add(-5 * time.Second).Unix()}), wantErr: "expired"},
		{name: "expired within skew", hdr: cat, claims: with(14, map[string]any{"exp": t0.Add(-4 * time.Second).Unix()}), wantExpiry: t0.Add(-4 * time.Second)},
		{name: "not yet valid", hdr: cat, claims: with(15, map[string]any{"nbf": t0.Add(6 * time.Second).Unix()}), wantErr: "not yet valid"},
		{name: "issued in the future", hdr: cat, claims: with(16, map[string]any{"iat": t0.Add(time.Minute).Unix()}), wantErr: "future"},
		{name: "scopes not a string", hdr: cat, claims: with(17, map[string]any{"scopes": []string{machineA}}), wantErr: "scopes"},
		{name: "exp not a number", hdr: cat, claims: with(18, map[string]any{"exp": "soon"}), wantErr: "claims"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := ks.verifier(t, clerktest.NewClock(t0))
			tok, err := v.Verify(context.Background(), signJWT(t, key, jose.RS256, "ins_test", tc.hdr, tc.claims), "")
			if tc.wantErr != "" {
				var inv *verifier.InvalidTokenError
				if !errors.As(err, &inv) || !strings.Contains(inv.Reason, tc.wantErr) {
					t.Fatalf("got %v, want invalid: %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tok.Subject != tc.claims["sub"] || tok.ID != tc.claims["jti"] || !tok.CreatedAt.Equal(t0) || !tok.ExpiresAt.Equal(tc.wantExpiry) {
				t.Errorf("got subject %q ID %q created %v expires %v, want %q %q %v %v",
					tok.Subject, tok.ID, tok.CreatedAt, tok.ExpiresAt, tc.claims["sub"], tc.claims["jti"], t0, tc.wantExpiry)
			}
			if !reflect.DeepEqual(tok.Scopes, tc.wantScopes) {
				t.Errorf("got scopes %q, want %q", tok.Scopes, tc.wantScopes)
			}
			if string(tok.Claims) != tc.wantClaims {
				t.Errorf("got claims %s, want %s", tok.Claims, tc.wantClaims)
			}
		})
	}
	if n := ks.other.Load(); n != 0 {
		t.Errorf("got %d requests other than GET /jwks, want 0", n)
	}
}

// TestLocalJWTExpiry: once the clock passes exp + JWTLeeway, a JWT is refused
// without any call, cached or not.
func TestLocalJWTExpiry(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	cached := e.jwt(clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(60)})
	cold := e.jwt(clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(60)})
	if _, err := v.Verify(context.Background(), cached, ""); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	e.clk.Advance(time.Minute + verifier.JWTLeeway - time.Second)
	if _, err := v.Verify(context.Background(), cold, ""); err != nil {
		t.Errorf("got %v within the leeway, want valid", err)
	}
	v.Invalidate(cold)
	e.clk.Advance(time.Second)
	for _, tok := range []string{cached, cold} {
		if _, err := v.Verify(context.Background(), tok, ""); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Errorf("got %v past exp + leeway, want ErrInvalidToken", err)
		}
	}
	if vc, j := e.verifyCalls(), e.jwksCalls(); vc != 0 || j != 1 {
		t.Errorf("got %d verify and %d JWKS calls, want 0 and 1", vc, j)
	}
}

// TestLocalJWTKeyRefresh: keys are fetched again after JWKSTTL, not before.
func TestLocalJWTKeyRefresh(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	for _, tc := range []struct {
		advance time.Duration
		want    int64
	}{
		{0, 1},
		{verifier.JWKSTTL - time.Second, 1},
		{time.Second, 2},
		{verifier.JWKSTTL - time.Second, 2},
		{time.Second, 3},
	} {
		e.clk.Advance(tc.advance)
		if _, err := v.Verify(context.Background(), e.jwt(clerkapi.CreateParams{}), ""); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if got := e.jwksCalls(); got != tc.want {
			t.Errorf("after %v more: got %d JWKS calls, want %d", tc.advance, got, tc.want)
		}
	}
}

// TestLocalJWTUnknownKid: a flood of made-up kids costs at most one JWKS call
// per JWKSMinRefetch; a key Clerk added since the last fetch is found then.
func TestLocalJWTUnknownKid(t *testing.T) {
	old, rotated := rsaKey(t, "instance"), rsaKey(t, "other")
	ks := newKeyServer(t, map[string]*rsa.PrivateKey{"ins_old": old})
	clk := clerktest.NewClock(t0)
	v := ks.verifier(t, clk)
	n := 0
	forged := func(kid string, key *rsa.PrivateKey) string {
		n++
		return signJWT(t, key, jose.RS256, kid, nil, claimsAt(clk.Now(), n))
	}
	if _, err := v.Verify(context.Background(), forged("ins_old", old), ""); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for i := range 50 {
		if _, err := v.Verify(context.Background(), forged("ins_forged", rotated), ""); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Fatalf("forged #%d: got %v, want ErrInvalidToken", i, err)
		}
	}
	if got := ks.jwks.Load(); got != 1 {
		t.Errorf("got %d JWKS calls after 50 unknown kids within %v, want 1", got, verifier.JWKSMinRefetch)
	}
	ks.setKeys(map[string]*rsa.PrivateKey{"ins_old": old, "ins_new": rotated})
	clk.Advance(verifier.JWKSMinRefetch)
	if _, err := v.Verify(context.Background(), forged("ins_new", rotated), ""); err != nil {
		t.Errorf("got %v for a key added since the last fetch, want valid", err)
	}
	for range 50 {
		_, _ = v.Verify(context.Background(), forged("ins_forged", rotated), "")
	}
	if got := ks.jwks.Load(); got != 2 {
		t.Errorf("got %d JWKS calls, want 2", got)
	}
}

// TestLocalJWTKeysUnavailable: when the JWKS cannot be fetched and no keys are
// usable, a JWT is ErrUnavailable (or ErrMisconfigured for a refused key),
// never invalid, and nothing is cached; the next fetch comes JWKSMinRefetch
// later.
func TestLocalJWTKeysUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault clerktest.Fault
		want  error
	}{
		{"503", clerktest.FailNext(1, http.StatusServiceUnavailable), verifier.ErrUnavailable},
		{"429", clerktest.RateLimited(3 * time.Second), verifier.ErrUnavailable},
		{"malformed", clerktest.Malformed(), verifier.ErrUnavailable},
		{"dropped", clerktest.Drop(), verifier.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v := e.verifier()
			tok := e.jwt(clerkapi.CreateParams{})
			e.srv.InjectOn(clerktest.EndpointJWKS, tc.fault)
			if _, err := v.Verify(context.Background(), tok, ""); !errors.Is(err, tc.want) || errors.Is(err, verifier.ErrInvalidToken) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			e.srv.ClearFaults()
			// The next fetch waits JWKSMinRefetch (the 429's 3 s is shorter):
			// until then the token is still refused, without a fetch.
			if _, err := v.Verify(context.Background(), tok, ""); !errors.Is(err, tc.want) || errors.Is(err, verifier.ErrInvalidToken) {
				t.Fatalf("within JWKSMinRefetch: got %v, want %v", err, tc.want)
			}
			if got := e.jwksCalls(); got != 1 {
				t.Fatalf("got %d JWKS calls within JWKSMinRefetch, want 1", got)
			}
			e.clk.Advance(verifier.JWKSMinRefetch)
			if _, err := v.Verify(context.Background(), tok, ""); err != nil {
				t.Errorf("got %v once the JWKS is back, want valid (the failure was not cached)", err)
			}
			if got := e.verifyCalls(); got != 0 {
				t.Errorf("got %d verify calls, want 0", got)
			}
		})
	}
	t.Run("refused key", func(t *testing.T) {
		e := newEnv(t)
		v := e.verifierWithKey("sk_test_notthisinstanceskey")
		if _, err := v.Verify(context.Background(), e.jwt(clerkapi.CreateParams{}), ""); !errors.Is(err, verifier.ErrMisconfigured) {
			t.Errorf("got %v, want ErrMisconfigured", err)
		}
	})
}

// TestLocalJWTStaleKeys: a failed refresh keeps the previous keys usable, with
// at most one retry per JWKSMinRefetch, until JWKSMaxStale.
func TestLocalJWTStaleKeys(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	verify := func(step string, want error) {
		t.Helper()
		_, err := v.Verify(context.Background(), e.jwt(clerkapi.CreateParams{}), "")
		if (want == nil && err != nil) || (want != nil && !errors.Is(err, want)) {
			t.Errorf("%s: got %v, want %v", step, err, want)
		}
	}
	verify("first", nil)
	e.srv.InjectOn(clerktest.EndpointJWKS, clerktest.FailNext(1000, http.StatusBadGateway))
	e.clk.Advance(verifier.JWKSTTL)
	verify("stale, refresh failed", nil)
	verify("stale, within the retry interval", nil)
	if got := e.jwksCalls(); got != 2 {
		t.Errorf("got %d JWKS calls, want 2", got)
	}
	e.clk.Advance(verifier.JWKSMinRefetch)
	verify("stale, retried", nil)
	if got := e.jwksCalls(); got != 3 {
		t.Errorf("got %d JWKS calls, want 3", got)
	}
	e.clk.Advance(verifier.JWKSMaxStale)
	verify("too stale", verifier.ErrUnavailable)
	e.srv.ClearFaults()
	verify("too stale, within the retry interval", verifier.ErrUnavailable)
	e.clk.Advance(verifier.JWKSMinRefetch)
	verify("recovered", nil)
}

// TestLocalJWTOff: with a machine key (or the tests' WithoutLocalJWT), JWTs
// go to Clerk's verify endpoint and the JWKS is never fetched.
func TestLocalJWTOff(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		v    *verifier.Verifier
	}{
		{"WithoutLocalJWT", e.verifier(verifier.WithoutLocalJWT())},
		{"machine key", e.verifierWithKey(e.callee.SecretKey)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.srv.ResetCalls()
			tok, err := tc.v.Verify(context.Background(), e.jwt(clerkapi.CreateParams{}), "")
			if err != nil || tok.Format != clerkapi.FormatJWT {
				t.Fatalf("got %v, %v, want a JWT token", tok, err)
			}
			if vc, j := e.verifyCalls(), e.jwksCalls(); vc != 1 || j != 0 {
				t.Errorf("got %d verify and %d JWKS calls, want 1 and 0", vc, j)
			}
			if st := tc.v.Stats(); st.LocalJWTChecks != 0 {
				t.Errorf("got %d local checks, want 0", st.LocalJWTChecks)
			}
		})
	}
}

// TestLocalJWTBackoff: the back-off gate that Clerk's 429 on verify opens does
// not refuse JWTs verified locally.
func TestLocalJWTBackoff(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.RateLimited(30*time.Second))
	if _, err := v.Verify(context.Background(), unknownToken(1), ""); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable (429)", err)
	}
	if _, err := v.Verify(context.Background(), unknownToken(2), ""); !errors.Is(err, verifier.ErrBackoff) {
		t.Fatalf("got %v, want ErrBackoff", err)
	}
	if _, err := v.Verify(context.Background(), e.jwt(clerkapi.CreateParams{}), ""); err != nil {
		t.Errorf("got %v for a JWT while backing off, want valid", err)
	}
}

// TestLocalJWTCloseDuringFetch: Close cancels a JWKS fetch in flight.
func TestLocalJWTCloseDuringFetch(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithLimits(verifier.Limits{Timeout: time.Minute}))
	hang := clerktest.Hang()
	e.srv.InjectOn(clerktest.EndpointJWKS, hang)
	tok := e.jwt(clerkapi.CreateParams{})
	done := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), tok, "")
		done <- err
	}()
	<-hang.Arrived(1) // the fetch is at the emulator, hanging
	v.Close()
	select {
	case err := <-done:
		if !errors.Is(err, verifier.ErrUnavailable) {
			t.Errorf("got %v, want ErrUnavailable", err)
		}
	case <-time.After(10 * time.Second): // a bound far below the fetch's timeout, not a race
		t.Fatal("Verify still waiting 10s after Close")
	}
}

// BenchmarkJWTCold is the local check of a cold JWT: parse, RS256 signature,
// claims, cache store (plus the Invalidate that makes it cold again).
func BenchmarkJWTCold(b *testing.B) {
	e := newRealTimeEnv(b)
	v := e.verifier()
	toks := make([]string, 64)
	for i := range toks {
		toks[i] = e.token(clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT, Claims: json.RawMessage(`{"role":"billing"}`)})
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, toks[0], ""); err != nil { // fetch the JWKS
		b.Fatal(err)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		tok := toks[next.Add(1)%int64(len(toks))]
		for pb.Next() {
			v.Invalidate(tok)
			if _, err := v.Verify(ctx, tok, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkJWTHit is a cached JWT.
func BenchmarkJWTHit(b *testing.B) {
	e := newRealTimeEnv(b)
	v := e.verifier()
	tok := e.token(clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok, ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, tok, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
