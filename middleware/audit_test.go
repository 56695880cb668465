package middleware_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/internal/wire"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestRefusalLogs: with WithLogger every refusal is one Debug line with its
// status, code, reason and source, the subject and token ID once the token
// was verified, and never any byte of the token, through the real verifier
// and the emulator.
func TestRefusalLogs(t *testing.T) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	receiver := clerk.CreateMachine("receiver")
	caller := clerk.CreateMachine("caller", receiver.ID)
	stranger := clerk.CreateMachine("stranger")
	v, err := verifier.New(clerk.SecretKey, verifier.WithBaseURL(clerk.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	mint := func(t *testing.T, m *clerktest.Machine) *clerkapi.M2MToken {
		tok, err := clerk.CreateToken(m.ID, clerkapi.CreateParams{})
		if err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		return tok
	}
	quoting := middleware.WithCheck(func(_ context.Context, tok *verifier.Token) error {
		if tok.Subject == caller.ID {
			return nil
		}
		return errors.New("refusing " + tok.Subject) // a check's error text is never logged
	})

	for _, tc := range []struct {
		name        string
		audience    string
		prepare     func(t *testing.T) (header, secret string, tok *clerkapi.M2MToken)
		wantStatus  float64
		wantError   string
		wantReason  string
		wantSubject bool
		wantCause   bool
	}{
		{name: "missing", audience: receiver.ID, prepare: func(*testing.T) (string, string, *clerkapi.M2MToken) { return "", "", nil },
			wantStatus: 401, wantError: "missing_token", wantReason: "no bearer token"},
		{name: "malformed", audience: receiver.ID, prepare: func(*testing.T) (string, string, *clerkapi.M2MToken) {
			return "Bearer mt_secretpart1 mt_secretpart2", "secretpart", nil
		}, wantStatus: 401, wantError: "missing_token", wantReason: "malformed bearer token"},
		{name: "invalid", audience: receiver.ID, prepare: func(*testing.T) (string, string, *clerkapi.M2MToken) {
			s := "mt_" + strings.Repeat("q", 32)
			return "Bearer " + s, s, nil
		}, wantStatus: 401, wantError: "invalid_token", wantReason: "token unknown, revoked, expired or not granted to this machine"},
		{name: "out of scope", audience: receiver.ID, prepare: func(t *testing.T) (string, string, *clerkapi.M2MToken) {
			tok := mint(t, stranger)
			return "Bearer " + tok.Token, tok.Token, tok
		}, wantStatus: 403, wantError: "insufficient_scope", wantReason: "token not scoped to this service", wantSubject: true},
		{name: "check quoting its input", audience: "", prepare: func(t *testing.T) (string, string, *clerkapi.M2MToken) {
			tok := mint(t, stranger)
			return "Bearer " + tok.Token, tok.Token, tok
		}, wantStatus: 403, wantError: "insufficient_scope", wantReason: "refused by policy", wantSubject: true},
		{name: "clerk down", audience: receiver.ID, prepare: func(t *testing.T) (string, string, *clerkapi.M2MToken) {
			tok := mint(t, caller)
			clerk.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1<<20, http.StatusServiceUnavailable))
			t.Cleanup(clerk.ClearFaults)
			return "Bearer " + tok.Token, tok.Token, nil
		}, wantStatus: 503, wantError: "temporarily_unavailable", wantReason: "token verification is temporarily unavailable", wantCause: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			opts := []middleware.Option{middleware.WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))}
			if tc.audience != "" {
				opts = append(opts, middleware.WithAudience(tc.audience))
			} else {
				opts = append(opts, middleware.WithAnyAudience(), quoting)
			}
			a, err := middleware.New(v, opts...)
			if err != nil {
				t.Fatal(err)
			}
			header, secret, minted := tc.prepare(t)
			r := requestWith()
			if header != "" {
				r = requestWith(header)
			}
			r.RemoteAddr = "192.0.2.7:4711"
			if _, err := a.Authenticate(r); err == nil {
				t.Fatal("got no error, want a refusal")
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("got %d log lines %q, want 1", len(lines), buf.String())
			}
			if secret != "" && strings.Contains(lines[0], secret) {
				t.Errorf("log line %s holds the token", lines[0])
			}
			if minted != nil && strings.Contains(lines[0], minted.Token[3:]) {
				t.Errorf("log line %s holds the token's secret part", lines[0])
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
				t.Fatal(err)
			}
			if got["level"] != "DEBUG" || got["msg"] != "m2mauth: request refused" {
				t.Errorf("got level %v msg %v, want DEBUG m2mauth: request refused", got["level"], got["msg"])
			}
			if got["status"] != tc.wantStatus || got["error"] != tc.wantError || got["reason"] != tc.wantReason || got["source"] != "192.0.2.7" {
				t.Errorf("got status %v error %v reason %v source %v, want %v %v %v 192.0.2.7",
					got["status"], got["error"], got["reason"], got["source"], tc.wantStatus, tc.wantError, tc.wantReason)
			}
			wantSubject, wantID := "", ""
			if tc.wantSubject {
				wantSubject, wantID = minted.Subject, minted.ID
			}
			if s, _ := got["subject"].(string); s != wantSubject {
				t.Errorf("got subject %q, want %q", s, wantSubject)
			}
			if id, _ := got["token_id"].(string); id != wantID {
				t.Errorf("got token_id %q, want %q", id, wantID)
			}
			if _, ok := got["cause"]; ok != tc.wantCause {
				t.Errorf("got cause %v, want one: %v", got["cause"], tc.wantCause)
			}
			if strings.Contains(lines[0], "refusing") {
				t.Errorf("log line %s holds a check's error text", lines[0])
			}
		})
	}
}

// TestLoggerLevel: above Debug nothing is logged; a success is never logged.
func TestLoggerLevel(t *testing.T) {
	var info, debug bytes.Buffer
	quiet, err := middleware.New(&fixedVerifier{tok: validToken()}, middleware.WithAnyAudience(),
		middleware.WithLogger(slog.New(slog.NewTextHandler(&info, nil))))
	if err != nil {
		t.Fatal(err)
	}
	loud, err := middleware.New(&fixedVerifier{tok: validToken()}, middleware.WithAnyAudience(),
		middleware.WithLogger(slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*middleware.Authenticator{quiet, loud} {
		_, _ = a.Authenticate(requestWith())                      // refused
		_, _ = a.Authenticate(requestWith("Bearer " + goodToken)) // passes
	}
	if info.Len() != 0 {
		t.Errorf("got %q at Info level, want nothing", info.String())
	}
	if n := strings.Count(debug.String(), "\n"); n != 1 {
		t.Errorf("got %d lines %q at Debug level, want 1 (the refusal)", n, debug.String())
	}
	if _, err := middleware.New(&fixedVerifier{}, middleware.WithLogger(nil)); err == nil {
		t.Error("WithLogger(nil) accepted")
	}
}

// TestOnSuccess: the hook sees every request that passes with a token, with
// its source and request, after the policy; never a refusal, a skipped
// request or an optional one without a token.
func TestOnSuccess(t *testing.T) {
	var got []middleware.Success
	hook := middleware.WithOnSuccess(func(_ context.Context, s middleware.Success) { got = append(got, s) })
	tok := validToken()
	a, err := middleware.New(&fixedVerifier{tok: tok}, middleware.WithAudience(receiverID), middleware.WithOptional(), hook,
		middleware.WithSkipper(func(r *http.Request) bool { return r.URL.Path == "/healthz" }))
	if err != nil {
		t.Fatal(err)
	}
	other, err := middleware.New(&fixedVerifier{tok: tok}, middleware.WithAudience("mch_other"), hook)
	if err != nil {
		t.Fatal(err)
	}
	ok := requestWith("Bearer " + goodToken)
	ok.RemoteAddr = "192.0.2.7:1"
	skipped, _ := http.NewRequest(http.MethodGet, "http://svc/healthz", nil)
	skipped.Header.Set("Authorization", "Bearer "+goodToken)
	for _, step := range []struct {
		a *middleware.Authenticator
		r *http.Request
	}{{a, ok}, {a, requestWith()}, {a, skipped}, {other, ok}} {
		_, _ = step.a.Authenticate(step.r)
	}
	if _, err := a.AuthenticateBearer(context.Background(), []string{"Bearer " + goodToken}, "198.51.100.1"); err != nil {
		t.Fatal(err)
	}
	want := []middleware.Success{{Token: tok, Source: "192.0.2.7", Request: ok}, {Token: tok, Source: "198.51.100.1"}}
	if len(got) != len(want) {
		t.Fatalf("got %d calls %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := middleware.New(&fixedVerifier{}, middleware.WithOnSuccess(nil)); err == nil {
		t.Error("WithOnSuccess(nil) accepted")
	}
}

// TestAuthenticateBearer: the door of other transports gives the verdicts of
// Authenticate by BearerToken's rules, with the same policy, and takes the
// source as given.
func TestAuthenticateBearer(t *testing.T) {
	sv := &fixedVerifier{tok: validToken()}
	bearer := []string{"Bearer " + goodToken}
	for _, tc := range []struct {
		name      string
		opts      []middleware.Option
		vals      []string
		wantErr   error
		wantToken bool
	}{
		{"valid", nil, bearer, nil, true},
		{"scheme in any case, several spaces", nil, []string{"bEARER   " + goodToken}, nil, true},
		{"no token", nil, nil, middleware.ErrMissingToken, false},
		{"no token, optional", []middleware.Option{middleware.WithOptional()}, nil, nil, false},
		{"another scheme, optional", []middleware.Option{middleware.WithOptional()}, []string{"Basic eDp5"}, nil, false},
		{"two values", []middleware.Option{middleware.WithOptional()}, []string{bearer[0], bearer[0]}, middleware.ErrMissingToken, false},
		{"empty token", nil, []string{"Bearer "}, middleware.ErrMissingToken, false},
		{"not token68", nil, []string{"Bearer a b"}, middleware.ErrMissingToken, false},
		{"too large", nil, []string{"Bearer " + strings.Repeat("a", wire.MaxAuthorizationLen)}, middleware.ErrMissingToken, false},
		{"invalid token", nil, []string{"Bearer mt_other"}, verifier.ErrInvalidToken, false},
		{"out of scope", []middleware.Option{middleware.WithAudience("mch_other")}, bearer, middleware.ErrForbidden, false},
		{"subject refused", []middleware.Option{middleware.WithAllowedSubjects("mch_x")}, bearer, middleware.ErrForbidden, false},
		{"check refused", []middleware.Option{middleware.WithCheck(func(context.Context, *verifier.Token) error { return middleware.Forbidden("no") })}, bearer, middleware.ErrForbidden, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := middleware.New(sv, append([]middleware.Option{middleware.WithAnyAudience()}, tc.opts...)...)
			if tc.name == "out of scope" {
				a, err = middleware.New(sv, tc.opts...)
			}
			if err != nil {
				t.Fatal(err)
			}
			sv.last = ""
			tok, err := a.AuthenticateBearer(context.Background(), tc.vals, "203.0.113.9")
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("got error %v, want %v", err, tc.wantErr)
			}
			if (tok != nil) != tc.wantToken {
				t.Errorf("got token %v, want one: %v", tok, tc.wantToken)
			}
			if tc.wantToken && sv.last != "203.0.113.9" {
				t.Errorf("verifier got source %q, want 203.0.113.9", sv.last)
			}
		})
	}
	a, err := middleware.New(sv, middleware.WithAnyAudience())
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = a.AuthenticateBearer(context.Background(), bearer, "203.0.113.9") }); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}
