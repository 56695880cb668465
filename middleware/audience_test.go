package middleware_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// Keys in the shapes verifier.New accepts; New makes no call to Clerk.
const (
	instanceKey = "sk_test_instanceKeyForAudienceTestsXXXXXXXX"
	machineKey  = "ak_machineKeyForAudienceTestsYYYYYYYYYYY"
)

// enforcer is a custom Verifier that says whether it enforces the audience.
type enforcer struct {
	middleware.Verifier
	enforces bool
}

func (e enforcer) EnforcesAudience() bool { return e.enforces }

// TestNewAudience: New fails closed on the audience with every Verifier that
// does not say it enforces the audience itself.
func TestNewAudience(t *testing.T) {
	newVerifier := func(t *testing.T, key string) *verifier.Verifier {
		v, err := verifier.New(key)
		if err != nil {
			t.Fatalf("verifier.New: %v", err)
		}
		t.Cleanup(func() { _ = v.Close() })
		return v
	}
	custom := middleware.VerifierFunc(func(context.Context, string, string) (*verifier.Token, error) { return nil, nil })
	const (
		ok       = ""
		none     = "no audience"
		conflict = "conflict"
		invalid  = "invalid"
	)
	audience := middleware.WithAudience(receiverID)
	for _, vc := range []struct {
		name     string
		v        func(t *testing.T) middleware.Verifier
		enforces bool // the results for a verifier that enforces the audience
	}{
		{"sk_ key", func(t *testing.T) middleware.Verifier { return newVerifier(t, instanceKey) }, false},
		{"ak_ key", func(t *testing.T) middleware.Verifier { return newVerifier(t, machineKey) }, true},
		{"VerifierFunc", func(*testing.T) middleware.Verifier { return custom }, false},
		{"custom, enforces false", func(*testing.T) middleware.Verifier { return enforcer{custom, false} }, false},
		{"custom, enforces true", func(*testing.T) middleware.Verifier { return enforcer{custom, true} }, true},
		{"wrapper around an ak_ verifier", func(t *testing.T) middleware.Verifier {
			return struct{ middleware.Verifier }{newVerifier(t, machineKey)}
		}, false},
	} {
		for _, oc := range []struct {
			name             string
			opts             []middleware.Option
			want, wantScoped string // for a verifier that does not / does enforce
		}{
			{"no option", nil, none, ok},
			{"WithAudience empty", []middleware.Option{middleware.WithAudience("")}, none, ok},
			{"WithAudience mch_", []middleware.Option{audience}, ok, ok},
			{"WithAnyAudience", []middleware.Option{middleware.WithAnyAudience()}, ok, ok},
			{"WithAudience empty and WithAnyAudience", []middleware.Option{middleware.WithAudience(""), middleware.WithAnyAudience()}, ok, ok},
			{"WithAudience mch_ and WithAnyAudience", []middleware.Option{audience, middleware.WithAnyAudience()}, conflict, conflict},
			{"WithAnyAudience and WithAudience mch_", []middleware.Option{middleware.WithAnyAudience(), audience}, conflict, conflict},
			{"WithAudience not a machine", []middleware.Option{middleware.WithAudience("orders")}, invalid, invalid},
			{"WithAudience mch_ then empty", []middleware.Option{audience, middleware.WithAudience("")}, none, ok},
		} {
			t.Run(vc.name+"/"+oc.name, func(t *testing.T) {
				want := oc.want
				if vc.enforces {
					want = oc.wantScoped
				}
				a, err := middleware.New(vc.v(t), oc.opts...)
				switch want {
				case ok:
					if err != nil || a == nil {
						t.Fatalf("got (%v, %v), want an Authenticator", a, err)
					}
					return
				case none:
					if !errors.Is(err, middleware.ErrNoAudience) {
						t.Fatalf("got error %v, want ErrNoAudience", err)
					}
					for _, fix := range []string{"WithAudience(", "WithAnyAudience()"} {
						if !strings.Contains(err.Error(), fix) {
							t.Errorf("got error %q, want it to name %s", err, fix)
						}
					}
				case conflict:
					if err == nil || errors.Is(err, middleware.ErrNoAudience) ||
						!strings.Contains(err.Error(), "WithAudience") || !strings.Contains(err.Error(), "WithAnyAudience") {
						t.Fatalf("got error %v, want one naming the contradiction", err)
					}
				case invalid:
					if err == nil || errors.Is(err, middleware.ErrNoAudience) || !strings.Contains(err.Error(), "mch_") {
						t.Fatalf("got error %v, want the machine-ID error", err)
					}
				}
				if a != nil {
					t.Errorf("got an Authenticator with the error")
				}
				for _, key := range []string{instanceKey, machineKey, instanceKey[8:], machineKey[3:]} {
					if strings.Contains(err.Error(), key) {
						t.Errorf("error %q contains the key", err)
					}
				}
			})
		}
	}
}

// TestEmptyAudienceIsNone: with a verifier that enforces the audience,
// WithAudience("") checks no scope, and a later non-empty one does.
func TestEmptyAudienceIsNone(t *testing.T) {
	unscoped := validToken()
	unscoped.Scopes = nil
	fv := &fixedVerifier{tok: unscoped, scoped: true}
	for _, tc := range []struct {
		name       string
		opts       []middleware.Option
		wantStatus int // 0: the request passes
	}{
		{"empty", []middleware.Option{middleware.WithAudience("")}, 0},
		{"empty then mch_", []middleware.Option{middleware.WithAudience(""), middleware.WithAudience(receiverID)}, 403},
		{"mch_ then empty", []middleware.Option{middleware.WithAudience(receiverID), middleware.WithAudience("")}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := middleware.New(fv, tc.opts...)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			tok, err := a.Authenticate(requestWith("Bearer " + goodToken))
			if tc.wantStatus == 0 {
				if err != nil || tok != unscoped {
					t.Fatalf("got (%v, %v), want the token", tok, err)
				}
				return
			}
			if got := a.Response(err).Status; got != tc.wantStatus {
				t.Fatalf("got status %d (%v), want %d", got, err, tc.wantStatus)
			}
		})
	}
}

func TestVerifierEnforcesAudience(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{instanceKey, false},
		{"sk_live_instanceKeyForAudienceTestsXXXXXXXX", false},
		{machineKey, true},
	} {
		v, err := verifier.New(tc.key)
		if err != nil {
			t.Fatalf("verifier.New: %v", err)
		}
		if got := v.EnforcesAudience(); got != tc.want {
			t.Errorf("%s…: got EnforcesAudience() %v, want %v", tc.key[:3], got, tc.want)
		}
		_ = v.Close()
	}
	if (*verifier.Verifier)(nil).EnforcesAudience() {
		t.Errorf("nil Verifier: got EnforcesAudience() true, want false")
	}
}
