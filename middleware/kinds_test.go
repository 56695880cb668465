package middleware_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// Tokens of each kind, as a fake Verifier knows them.
const (
	m2mOpaque = "mt_" + "0123456789abcdefghijklmnopqrstuv"
	apiKey    = "ak_" + "0123456789abcdefghijklmnopqrstuv"
	oauthOpq  = "oat_" + "0123456789abcdefghijklmnopqrstuv"
	m2mJWT    = "eyJhbGciOiJSUzI1NiJ9.bTJt.c2ln"
	oauthJWT  = "eyJhbGciOiJSUzI1NiJ9.b2F1dGg.c2ln"
)

// kindVerifier is a fake Verifier that knows one token of each kind, counts
// its calls, and can verify every kind (as one with a Clerk secret key).
type kindVerifier struct {
	calls atomic.Int64
}

func (f *kindVerifier) Verify(_ context.Context, token, _ string) (*verifier.Token, error) {
	f.calls.Add(1)
	switch token {
	case m2mOpaque, m2mJWT:
		return &verifier.Token{Kind: verifier.KindM2M, Subject: callerID, Scopes: []string{receiverID}}, nil
	case apiKey:
		return &verifier.Token{Kind: verifier.KindAPIKey, Subject: "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk", Scopes: []string{"orders:read", "orders:write"}, Name: "ci"}, nil
	case oauthOpq, oauthJWT:
		return &verifier.Token{Kind: verifier.KindOAuth, Subject: "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk", Scopes: []string{"mcp"}, ClientID: "client_x"}, nil
	}
	return nil, &verifier.InvalidTokenError{Reason: "token not found"}
}

// TestAcceptKinds: each kind reaches the handler only where it is accepted; a
// token of another kind is refused 401 invalid_token, and an opaque one
// without a call to the Verifier. The policy of each kind applies to it
// alone: the audience to M2M tokens, the required scopes to API keys and
// OAuth tokens.
func TestAcceptKinds(t *testing.T) {
	m2m, key, oauth := verifier.KindM2M, verifier.KindAPIKey, verifier.KindOAuth
	anyAud := middleware.WithAnyAudience() // the fake Verifier, like an sk_ one, needs it where M2M is accepted
	for _, tc := range []struct {
		name      string
		opts      []middleware.Option
		token     string
		status    int
		calls     int64
		challenge string // a substring of WWW-Authenticate
	}{
		{"default: M2M", []middleware.Option{anyAud}, m2mOpaque, 200, 1, ""},
		{"default: API key refused without a call", []middleware.Option{anyAud}, apiKey, 401, 0, `error="invalid_token"`},
		{"default: opaque OAuth refused without a call", []middleware.Option{anyAud}, oauthOpq, 401, 0, `error="invalid_token"`},
		{"default: OAuth JWT refused once its kind is known", []middleware.Option{anyAud}, oauthJWT, 401, 1, "kind this service does not accept"},
		{"API keys: API key", []middleware.Option{middleware.WithAccept(key)}, apiKey, 200, 1, ""},
		{"API keys: M2M refused without a call", []middleware.Option{middleware.WithAccept(key)}, m2mOpaque, 401, 0, "kind"},
		{"API keys: M2M JWT refused", []middleware.Option{middleware.WithAccept(key)}, m2mJWT, 401, 1, "kind"},
		{"API keys, scopes present", []middleware.Option{middleware.WithAccept(key), middleware.WithRequiredScopes("orders:read")}, apiKey, 200, 1, ""},
		{"API keys, a scope missing", []middleware.Option{middleware.WithAccept(key), middleware.WithRequiredScopes("orders:read", "admin")}, apiKey, 403,
			1, `error="insufficient_scope", error_description="token lacks a scope this service requires", scope="orders:read admin"`},
		{"OAuth: opaque and JWT", []middleware.Option{middleware.WithAccept(oauth), middleware.WithRequiredScopes("mcp")}, oauthJWT, 200, 1, ""},
		{"OAuth + M2M: M2M passes its audience", []middleware.Option{middleware.WithAccept(oauth, m2m), middleware.WithRequiredScopes("mcp"), middleware.WithAudience(receiverID)}, m2mJWT, 200, 1, ""},
		{"OAuth + M2M: scopes do not concern M2M", []middleware.Option{middleware.WithAccept(oauth, m2m), middleware.WithRequiredScopes("other"), middleware.WithAudience(receiverID)}, m2mOpaque, 200, 1, ""},
		{"OAuth + M2M: audience does not concern OAuth", []middleware.Option{middleware.WithAccept(oauth, m2m), middleware.WithAudience("mch_other")}, oauthOpq, 200, 1, ""},
		{"OAuth + M2M: M2M out of scope", []middleware.Option{middleware.WithAccept(oauth, m2m), middleware.WithAudience("mch_other")}, m2mOpaque, 403, 1, "not scoped to this service"},
		{"subjects apply to every kind", []middleware.Option{middleware.WithAccept(key), middleware.WithAllowedSubjects(callerID)}, apiKey, 403, 1, "subject not allowed"},
		{"a check sees the kind", []middleware.Option{middleware.WithAccept(key, oauth), middleware.WithCheck(func(_ context.Context, t *verifier.Token) error {
			if t.Kind == verifier.KindOAuth && t.ClientID != "client_y" {
				return middleware.Forbidden("client not allowed")
			}
			return nil
		})}, oauthOpq, 403, 1, "client not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &kindVerifier{}
			a, err := middleware.New(f, tc.opts...)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			r := requestWith("Bearer " + tc.token)
			w := httptest.NewRecorder()
			tok, err := a.Authenticate(r)
			if err != nil {
				a.WriteError(w, r, err)
			} else if tok == nil {
				t.Fatal("no token and no error")
			}
			if w.Code != tc.status {
				t.Errorf("got status %d (%v), want %d", w.Code, err, tc.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); !strings.Contains(got, tc.challenge) {
				t.Errorf("got WWW-Authenticate %q, want it to hold %q", got, tc.challenge)
			}
			if got := f.calls.Load(); got != tc.calls {
				t.Errorf("got %d calls to the Verifier, want %d", got, tc.calls)
			}
		})
	}
}

// TestAcceptAtNew: the audience is required only where M2M tokens are
// accepted; a machine secret key cannot accept other kinds; WithAccept and
// WithRequiredScopes validate their arguments.
func TestAcceptAtNew(t *testing.T) {
	instance, err := verifier.New(instanceKey)
	if err != nil {
		t.Fatal(err)
	}
	defer instance.Close()
	machine, err := verifier.New(machineKey)
	if err != nil {
		t.Fatal(err)
	}
	defer machine.Close()
	for _, tc := range []struct {
		name    string
		v       middleware.Verifier
		opts    []middleware.Option
		wantErr error // nil: built; errAny: some error
	}{
		{"sk_, API keys only: no audience needed", instance, []middleware.Option{middleware.WithAccept(verifier.KindAPIKey)}, nil},
		{"sk_, OAuth only: no audience needed", instance, []middleware.Option{middleware.WithAccept(verifier.KindOAuth)}, nil},
		{"sk_, OAuth and M2M: audience needed", instance, []middleware.Option{middleware.WithAccept(verifier.KindOAuth, verifier.KindM2M)}, middleware.ErrNoAudience},
		{"sk_, default M2M: audience needed", instance, nil, middleware.ErrNoAudience},
		{"ak_, M2M", machine, []middleware.Option{middleware.WithAccept(verifier.KindM2M)}, nil},
		{"ak_, API keys", machine, []middleware.Option{middleware.WithAccept(verifier.KindAPIKey)}, errAny},
		{"ak_, M2M and OAuth", machine, []middleware.Option{middleware.WithAccept(verifier.KindM2M, verifier.KindOAuth)}, errAny},
		{"fake Verifier, API keys", middleware.VerifierFunc(func(context.Context, string, string) (*verifier.Token, error) { return nil, nil }),
			[]middleware.Option{middleware.WithAccept(verifier.KindAPIKey)}, nil},
		{"no kind", instance, []middleware.Option{middleware.WithAccept()}, errAny},
		{"unknown kind", instance, []middleware.Option{middleware.WithAccept("session_token")}, errAny},
		{"no scope", instance, []middleware.Option{middleware.WithAccept(verifier.KindAPIKey), middleware.WithRequiredScopes()}, errAny},
		{"empty scope", instance, []middleware.Option{middleware.WithAccept(verifier.KindAPIKey), middleware.WithRequiredScopes("")}, errAny},
		{"scope with a space", instance, []middleware.Option{middleware.WithAccept(verifier.KindAPIKey), middleware.WithRequiredScopes("a b")}, errAny},
		{"scope with a quote", instance, []middleware.Option{middleware.WithAccept(verifier.KindAPIKey), middleware.WithRequiredScopes(`a"`)}, errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := middleware.New(tc.v, tc.opts...)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("got %v, want an Authenticator", err)
			case tc.wantErr == errAny && err == nil:
				t.Error("got an Authenticator, want an error")
			case tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Errorf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestLegacyTokenIsM2M: a Token without a Kind (a fake Verifier written
// before kinds) is an M2M token: accepted by default, audience checked.
func TestLegacyTokenIsM2M(t *testing.T) {
	v := middleware.VerifierFunc(func(context.Context, string, string) (*verifier.Token, error) {
		return &verifier.Token{Subject: callerID, Scopes: []string{receiverID}}, nil
	})
	for _, tc := range []struct {
		aud    string
		status int
	}{{receiverID, 200}, {"mch_other", 403}} {
		a, err := middleware.New(v, middleware.WithAudience(tc.aud))
		if err != nil {
			t.Fatal(err)
		}
		r := requestWith("Bearer " + m2mOpaque)
		w := httptest.NewRecorder()
		if _, err := a.Authenticate(r); err != nil {
			a.WriteError(w, r, err)
		}
		if w.Code != tc.status {
			t.Errorf("audience %s: got %d, want %d", tc.aud, w.Code, tc.status)
		}
	}
}
