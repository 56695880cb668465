package verifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/verifier"
)

func TestVerifyOpaque(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	m := e.mint(e.caller.ID, clerkapi.CreateParams{
		SecondsUntilExpiration: clerkapi.Int64(600),
		Claims:                 map[string]any{"role": "billing"},
	})
	tok, err := v.Verify(context.Background(), m.Token, "")
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if tok.ID != m.ID || tok.Subject != e.caller.ID || tok.Format != clerkapi.FormatOpaque {
		t.Errorf("got ID %q subject %q format %q, want %q %q opaque", tok.ID, tok.Subject, tok.Format, m.ID, e.caller.ID)
	}
	if !tok.HasScope(e.callee.ID) || len(tok.Scopes) != 1 {
		t.Errorf("got scopes %v, want [%s]", tok.Scopes, e.callee.ID)
	}
	if want := t0.Add(600 * time.Second); !tok.ExpiresAt.Equal(want) {
		t.Errorf("got ExpiresAt %v, want %v", tok.ExpiresAt, want)
	}
	if !tok.CreatedAt.Equal(t0) {
		t.Errorf("got CreatedAt %v, want %v", tok.CreatedAt, t0)
	}
	var claims struct{ Role string }
	if err := tok.DecodeClaims(&claims); err != nil || claims.Role != "billing" {
		t.Errorf("DecodeClaims = %+v, %v; want role billing", claims, err)
	}
	if strings.Contains(fmt.Sprintf("%+v", *tok), m.Token) {
		t.Error("the Token carries the secret token value")
	}
}

func TestVerifyClaimsAbsent(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	for _, tc := range []struct {
		name   string
		claims any
	}{
		{"no claims", nil},
		{"null claims", json.RawMessage("null")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := v.Verify(context.Background(), e.token(clerkapi.CreateParams{Claims: tc.claims}), "")
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tok.Claims != nil {
				t.Errorf("got claims %s, want nil", tok.Claims)
			}
			if !tok.ExpiresAt.Equal(t0.Add(time.Hour)) {
				t.Errorf("got ExpiresAt %v, want the default hour", tok.ExpiresAt)
			}
		})
	}
}

func TestVerifyJWTThroughClerk(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithoutLocalJWT())
	m := e.mint(e.caller.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	tok, err := v.Verify(context.Background(), m.Token, "")
	if err != nil {
		t.Fatalf("Verify(JWT): %v", err)
	}
	if tok.Format != clerkapi.FormatJWT || tok.ID != m.ID || tok.Subject != e.caller.ID {
		t.Errorf("got format %q ID %q subject %q, want jwt %q %q", tok.Format, tok.ID, tok.Subject, m.ID, e.caller.ID)
	}
	if got := e.verifyCalls(); got != 1 {
		t.Errorf("got %d verify calls, want 1 (WithLocalJWT(false) sends JWTs to Clerk)", got)
	}
}

func TestVerifyMachineKey(t *testing.T) {
	e := newEnv(t)
	stranger := e.srv.CreateMachine("stranger") // may call nobody
	v := e.verifierWithKey(e.callee.SecretKey)
	for _, tc := range []struct {
		name    string
		machine string
		want    error
	}{
		{"token granted to this machine", e.caller.ID, nil},
		{"token of a machine without scope", stranger.ID, verifier.ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), e.mint(tc.machine, clerkapi.CreateParams{}).Token, "")
			if !errors.Is(err, tc.want) {
				t.Errorf("got error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestLocalSyntaxCheck(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	for _, tc := range []struct {
		name, token string
	}{
		{"empty", ""},
		{"over 4 KiB", "mt_" + strings.Repeat("a", 4096)},
		{"space", "mt_" + strings.Repeat("a", 16) + " " + strings.Repeat("a", 15)},
		{"newline", "mt_" + strings.Repeat("a", 32) + "\n"},
		{"NUL", "mt_" + strings.Repeat("a", 31) + "\x00"},
		{"non-ASCII", "mt_" + strings.Repeat("é", 16)},
		{"mt_ too short", "mt_abc"},
		{"mt_ too long", "mt_" + strings.Repeat("a", 257)},
		{"mt_ with dot", "mt_" + strings.Repeat("a", 16) + "." + strings.Repeat("a", 16)},
		{"other prefix", "xk_" + strings.Repeat("a", 32)},
		{"ak_ with a dot", "ak_" + strings.Repeat("a", 16) + "." + strings.Repeat("a", 16)},
		{"oat_ too short", "oat_abc"},
		{"bare word", "hello"},
		{"two segments", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtY2gifQ"},
		{"four segments", "a.b.c.d"},
		{"empty segment", "eyJhbGciOiJSUzI1NiJ9..c2ln"},
		{"padding in JWT", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtY2gifQ==.c2ln"},
		{"base64 std chars in JWT", "eyJ+.eyJ/.c2ln"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.token, "")
			if !errors.Is(err, verifier.ErrInvalidToken) {
				t.Fatalf("got error %v, want ErrInvalidToken", err)
			}
			var inv *verifier.InvalidTokenError
			if !errors.As(err, &inv) || inv.Reason == "" {
				t.Errorf("got %T, want *InvalidTokenError with a reason", err)
			}
		})
	}
	if got := e.verifyCalls(); got != 0 {
		t.Errorf("got %d verify calls, want 0", got)
	}
	if st := v.Stats(); st.CacheEntries != 0 || st.Misses != 0 {
		t.Errorf("got %d cache entries and %d misses, want 0 and 0", st.CacheEntries, st.Misses)
	}
}

func TestUnknownTokenNegativeCache(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithNegativeTTL(10 * time.Second))
	tok := unknownToken(1)
	for i, want := range []int64{1, 1, 1, 2} {
		if i == 3 {
			e.clk.Advance(10 * time.Second)
		}
		_, err := v.Verify(context.Background(), tok, "")
		var inv *verifier.InvalidTokenError
		if !errors.As(err, &inv) {
			t.Fatalf("call %d: got error %v, want *InvalidTokenError", i, err)
		}
		if i == 0 {
			var ae *clerkapi.APIError
			if !errors.As(err, &ae) || ae.StatusCode != 404 {
				t.Errorf("got %v, want Clerk's 404 reachable with errors.As", err)
			}
		}
		if got := e.verifyCalls(); got != want {
			t.Errorf("call %d: got %d verify calls, want %d", i, got, want)
		}
	}
	if st := v.Stats(); st.NegativeHits != 2 || st.Invalid != 4 {
		t.Errorf("got %d negative hits and %d invalid, want 2 and 4", st.NegativeHits, st.Invalid)
	}
}

func TestNegativeCacheDisabled(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithNegativeTTL(0))
	for range 3 {
		if _, err := v.Verify(context.Background(), unknownToken(7), ""); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Fatalf("got %v, want ErrInvalidToken", err)
		}
	}
	if got := e.verifyCalls(); got != 3 {
		t.Errorf("got %d verify calls, want 3 with negative caching off", got)
	}
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithTTL(time.Minute), verifier.WithNegativeTTL(10*time.Second))
	tok := e.token(clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(30)})
	ctx := context.Background()
	for _, step := range []struct {
		name      string
		advance   time.Duration
		wantErr   error
		wantCalls int64
	}{
		{"first verify", 0, nil, 1},
		{"served from cache", 29 * time.Second, nil, 1},
		{"just before expiry", time.Second - time.Millisecond, nil, 1},
		{"at expiry: refused locally", time.Millisecond, verifier.ErrInvalidToken, 1},
		{"still refused locally", 9 * time.Second, verifier.ErrInvalidToken, 1},
		{"after the negative TTL: Clerk says 404", time.Second, verifier.ErrInvalidToken, 2},
		{"then cached negatively", time.Second, verifier.ErrInvalidToken, 2},
	} {
		e.clk.Advance(step.advance)
		_, err := v.Verify(ctx, tok, "")
		if !errors.Is(err, step.wantErr) || (step.wantErr == nil && err != nil) {
			t.Errorf("%s: got error %v, want %v", step.name, err, step.wantErr)
		}
		if got := e.verifyCalls(); got != step.wantCalls {
			t.Errorf("%s: got %d verify calls, want %d", step.name, got, step.wantCalls)
		}
	}
}

// TestPositiveTTL: a valid token is trusted for the TTL, then asked again
// (refresh-ahead off: its background call would race the count).
func TestPositiveTTL(t *testing.T) {
	e := newEnv(t)
	v := e.verifier(verifier.WithTTL(time.Minute), verifier.WithLimits(verifier.Limits{RefreshAhead: -1}))
	tok := e.token(clerkapi.CreateParams{}) // expires in an hour
	for i, step := range []struct {
		advance   time.Duration
		wantCalls int64
	}{{0, 1}, {59 * time.Second, 1}, {time.Second, 2}, {30 * time.Second, 2}} {
		e.clk.Advance(step.advance)
		if _, err := v.Verify(context.Background(), tok, ""); err != nil {
			t.Fatalf("step %d: Verify: %v", i, err)
		}
		if got := e.verifyCalls(); got != step.wantCalls {
			t.Errorf("step %d: got %d verify calls, want %d", i, got, step.wantCalls)
		}
	}
}

func TestInvalidate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		invalidate func(v *verifier.Verifier, token, id string)
	}{
		{"Invalidate", func(v *verifier.Verifier, token, _ string) { v.Invalidate(token) }},
		{"InvalidateID", func(v *verifier.Verifier, _, id string) { v.InvalidateID(id) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v := e.verifier()
			m := e.mint(e.caller.ID, clerkapi.CreateParams{})
			ctx := context.Background()
			if _, err := v.Verify(ctx, m.Token, ""); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if err := e.srv.RevokeToken(m.ID, "compromised"); err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(ctx, m.Token, ""); err != nil {
				t.Fatalf("Verify of the cached token after revocation: %v, want the cached answer", err)
			}
			tc.invalidate(v, m.Token, m.ID)
			if _, err := v.Verify(ctx, m.Token, ""); !errors.Is(err, verifier.ErrInvalidToken) {
				t.Errorf("got %v after invalidation, want ErrInvalidToken (revoked)", err)
			}
			if got := e.verifyCalls(); got != 2 {
				t.Errorf("got %d verify calls, want 2", got)
			}
		})
	}
}

func TestContextDoneBeforeCall(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	tok := e.token(clerkapi.CreateParams{})
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"canceled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
		{"deadline exceeded", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Unix(1, 0))
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			if _, err := v.Verify(ctx, tok, ""); err != tc.want {
				t.Errorf("got %v, want %v itself", err, tc.want)
			}
		})
	}
	if got := e.verifyCalls(); got != 0 {
		t.Errorf("got %d verify calls, want 0", got)
	}
}

func TestClose(t *testing.T) {
	e := newEnv(t)
	v := e.verifier()
	tok := e.token(clerkapi.CreateParams{})
	if _, err := v.Verify(context.Background(), tok, ""); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for i := range 2 {
		if err := v.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
	_, err := v.Verify(context.Background(), tok, "")
	if !errors.Is(err, verifier.ErrUnavailable) || !errors.Is(err, verifier.ErrClosed) {
		t.Errorf("got %v after Close, want ErrUnavailable and ErrClosed (fail closed, even for a cached token)", err)
	}
}

// TestWellFormedUnknown: tokens that pass the local syntax check go to Clerk
// (or, for JWTs, to the local JWT check), which refuses them; the refusal is
// cached.
func TestWellFormedUnknown(t *testing.T) {
	const jwtShaped = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtY2hfeCJ9.c2lnbmF0dXJl"
	for _, tc := range []struct {
		name, token string
		opts        []verifier.Option
		wantCalls   int64
	}{
		{"opaque", unknownToken(99), nil, 1},
		{"JWT-shaped, checked locally", jwtShaped, nil, 0},
		{"JWT-shaped, sent to Clerk", jwtShaped, []verifier.Option{verifier.WithoutLocalJWT()}, 1},
		{"token ID instead of token", "mt_0123456789abcdef0123456789abcdef", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			v := e.verifier(tc.opts...)
			for range 2 {
				if _, err := v.Verify(context.Background(), tc.token, ""); !errors.Is(err, verifier.ErrInvalidToken) {
					t.Fatalf("got %v, want ErrInvalidToken", err)
				}
			}
			if got := e.verifyCalls(); got != tc.wantCalls {
				t.Errorf("got %d verify calls, want %d", got, tc.wantCalls)
			}
			if got := v.Stats().NegativeHits; got != 1 {
				t.Errorf("got %d negative hits, want 1 (the refusal is cached)", got)
			}
		})
	}
}
