package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

const (
	receiverID = "mch_receiverAAAAAAAAAAAAAAAAAAAAA"
	callerID   = "mch_callerBBBBBBBBBBBBBBBBBBBBBBBB"
)

// fixedVerifier accepts goodToken (returning tok) and answers every other
// token with err, counting calls. With scoped it reports, like a verifier on
// a machine secret key (ak_…), that it accepts only tokens granted to this
// service, so that New needs no audience.
type fixedVerifier struct {
	tok    *verifier.Token
	err    error
	scoped bool
	calls  atomic.Int64

	mu   sync.Mutex
	last string // the last source given
}

func (f *fixedVerifier) EnforcesAudience() bool { return f.scoped }

func (f *fixedVerifier) Verify(ctx context.Context, token, source string) (*verifier.Token, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.last = source
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if token != goodToken {
		return nil, &verifier.InvalidTokenError{Reason: "token not found"}
	}
	return f.tok, nil
}

func validToken() *verifier.Token {
	return &verifier.Token{
		ID: "mt_00000000000000000000000000000001", Subject: callerID,
		Scopes: []string{receiverID}, Claims: json.RawMessage(`{"role":"reporter"}`),
		ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Format: clerkapi.FormatOpaque,
	}
}

func TestAuthenticate(t *testing.T) {
	const challenge = `Bearer realm="api"`
	bearer := "Bearer " + goodToken
	roleCheck := middleware.WithCheck(func(_ context.Context, tok *verifier.Token) error {
		var c struct{ Role string }
		if err := tok.DecodeClaims(&c); err != nil || c.Role != "admin" {
			return middleware.Forbidden("role admin required")
		}
		return nil
	})
	canceled := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	for _, tc := range []struct {
		name       string
		opts       []middleware.Option
		verifyErr  error
		ctx        context.Context
		headers    []string
		wantPass   bool // request may go on
		wantToken  bool // with a token
		wantErr    error
		wantStatus int
		wantWWW    string
		wantRetry  string
		wantCode   string
		wantCalls  int64
	}{
		{name: "valid", headers: []string{bearer}, wantPass: true, wantToken: true, wantCalls: 1},
		{name: "missing", wantErr: middleware.ErrMissingToken, wantStatus: 401, wantWWW: challenge, wantCode: "missing_token"},
		{name: "basic scheme", headers: []string{"Basic eDp5"}, wantErr: middleware.ErrMissingToken, wantStatus: 401, wantWWW: challenge, wantCode: "missing_token"},
		{name: "duplicated header", headers: []string{bearer, bearer}, wantErr: middleware.ErrMissingToken, wantStatus: 401, wantWWW: challenge, wantCode: "missing_token"},
		{name: "malformed", headers: []string{"Bearer a b"}, wantErr: middleware.ErrMissingToken, wantStatus: 401, wantWWW: challenge, wantCode: "missing_token"},
		{name: "custom realm", opts: []middleware.Option{middleware.WithRealm("billing")}, wantErr: middleware.ErrMissingToken, wantStatus: 401, wantWWW: `Bearer realm="billing"`, wantCode: "missing_token"},
		{name: "invalid", headers: []string{"Bearer mt_unknown"}, wantErr: verifier.ErrInvalidToken, wantStatus: 401,
			wantWWW: challenge + `, error="invalid_token", error_description="token not found"`, wantCode: "invalid_token", wantCalls: 1},
		{name: "invalid reason sanitized", headers: []string{bearer}, verifyErr: &verifier.InvalidTokenError{Reason: "bad \"x\"\n"}, wantErr: verifier.ErrInvalidToken, wantStatus: 401,
			wantWWW: challenge + `, error="invalid_token", error_description="bad 'x'"`, wantCode: "invalid_token", wantCalls: 1},
		{name: "optional without token", opts: []middleware.Option{middleware.WithOptional()}, wantPass: true},
		{name: "optional with basic", opts: []middleware.Option{middleware.WithOptional()}, headers: []string{"Basic eDp5"}, wantPass: true},
		{name: "optional with malformed", opts: []middleware.Option{middleware.WithOptional()}, headers: []string{"Bearer"}, wantErr: middleware.ErrMissingToken, wantStatus: 401, wantWWW: challenge, wantCode: "missing_token"},
		{name: "optional with invalid", opts: []middleware.Option{middleware.WithOptional()}, headers: []string{"Bearer mt_unknown"}, wantErr: verifier.ErrInvalidToken, wantStatus: 401,
			wantWWW: challenge + `, error="invalid_token", error_description="token not found"`, wantCode: "invalid_token", wantCalls: 1},
		{name: "optional with valid", opts: []middleware.Option{middleware.WithOptional()}, headers: []string{bearer}, wantPass: true, wantToken: true, wantCalls: 1},
		{name: "skipped", opts: []middleware.Option{middleware.WithSkipper(func(r *http.Request) bool { return r.URL.Path == "/api" })}, headers: []string{"Bearer mt_unknown"}, wantPass: true},
		{name: "not skipped", opts: []middleware.Option{middleware.WithSkipper(func(r *http.Request) bool { return r.URL.Path == "/healthz" })}, wantErr: middleware.ErrMissingToken, wantStatus: 401, wantWWW: challenge, wantCode: "missing_token"},
		{name: "audience ok", opts: []middleware.Option{middleware.WithAudience(receiverID)}, headers: []string{bearer}, wantPass: true, wantToken: true, wantCalls: 1},
		{name: "audience refused", opts: []middleware.Option{middleware.WithAudience("mch_other")}, headers: []string{bearer}, wantErr: middleware.ErrForbidden, wantStatus: 403,
			wantWWW: challenge + `, error="insufficient_scope", error_description="token not scoped to this service"`, wantCode: "insufficient_scope", wantCalls: 1},
		{name: "subject ok", opts: []middleware.Option{middleware.WithAllowedSubjects("mch_x", callerID)}, headers: []string{bearer}, wantPass: true, wantToken: true, wantCalls: 1},
		{name: "subject refused", opts: []middleware.Option{middleware.WithAllowedSubjects("mch_x")}, headers: []string{bearer}, wantErr: middleware.ErrForbidden, wantStatus: 403,
			wantWWW: challenge + `, error="insufficient_scope", error_description="subject not allowed"`, wantCode: "insufficient_scope", wantCalls: 1},
		{name: "check refused", opts: []middleware.Option{roleCheck}, headers: []string{bearer}, wantErr: middleware.ErrForbidden, wantStatus: 403,
			wantWWW: challenge + `, error="insufficient_scope", error_description="role admin required"`, wantCode: "insufficient_scope", wantCalls: 1},
		{name: "check plain error", opts: []middleware.Option{middleware.WithCheck(func(context.Context, *verifier.Token) error { return errors.New("secret detail") })}, headers: []string{bearer},
			wantErr: middleware.ErrForbidden, wantStatus: 403, wantWWW: challenge + `, error="insufficient_scope", error_description="refused by policy"`, wantCode: "insufficient_scope", wantCalls: 1},
		{name: "check unavailable", opts: []middleware.Option{middleware.WithCheck(func(context.Context, *verifier.Token) error {
			return &verifier.UnavailableError{RetryAfter: 3 * time.Second}
		})}, headers: []string{bearer},
			wantErr: verifier.ErrUnavailable, wantStatus: 503, wantRetry: "3", wantCode: "temporarily_unavailable", wantCalls: 1},
		{name: "clerk unavailable, retry-after from clerk", headers: []string{bearer}, verifyErr: &verifier.UnavailableError{RetryAfter: 7 * time.Second, Err: errors.New("429")},
			wantErr: verifier.ErrUnavailable, wantStatus: 503, wantRetry: "7", wantCode: "temporarily_unavailable", wantCalls: 1},
		{name: "clerk unavailable, default retry-after", headers: []string{bearer}, verifyErr: &verifier.UnavailableError{Err: errors.New("502")},
			wantErr: verifier.ErrUnavailable, wantStatus: 503, wantRetry: "2", wantCode: "temporarily_unavailable", wantCalls: 1},
		{name: "clerk unavailable, configured retry-after rounds up", opts: []middleware.Option{middleware.WithRetryAfter(1500 * time.Millisecond)}, headers: []string{bearer}, verifyErr: verifier.ErrUnavailable,
			wantErr: verifier.ErrUnavailable, wantStatus: 503, wantRetry: "2", wantCode: "temporarily_unavailable", wantCalls: 1},
		{name: "misconfigured", headers: []string{bearer}, verifyErr: verifier.ErrMisconfigured, wantErr: verifier.ErrMisconfigured, wantStatus: 500, wantCode: "server_error", wantCalls: 1},
		{name: "unknown verifier error", headers: []string{bearer}, verifyErr: errors.New("boom"), wantStatus: 500, wantCode: "server_error", wantCalls: 1},
		{name: "client gone", ctx: canceled(), headers: []string{bearer}, verifyErr: &verifier.UnavailableError{Err: context.Canceled},
			wantErr: context.Canceled, wantStatus: 499, wantCode: "client_closed_request", wantCalls: 1},
		{name: "client gone after a verdict", ctx: canceled(), headers: []string{"Bearer mt_unknown"}, wantErr: verifier.ErrInvalidToken, wantStatus: 401,
			wantWWW: challenge + `, error="invalid_token", error_description="token not found"`, wantCode: "invalid_token", wantCalls: 1},
		{name: "custom extractor", opts: []middleware.Option{middleware.WithExtractor(func(r *http.Request) (string, error) { return r.Header.Get("X-Token"), nil })},
			headers: []string{"Bearer nope"}, wantErr: middleware.ErrMissingToken, wantStatus: 401, wantWWW: challenge, wantCode: "missing_token"},
		{name: "custom extractor error", opts: []middleware.Option{middleware.WithExtractor(func(*http.Request) (string, error) { return "", errors.New("leaky " + goodToken) })},
			wantErr: middleware.ErrMissingToken, wantStatus: 401, wantWWW: challenge, wantCode: "missing_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fv := &fixedVerifier{tok: validToken(), err: tc.verifyErr, scoped: true}
			a, err := middleware.New(fv, tc.opts...)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			r := requestWith(tc.headers...)
			if tc.ctx != nil {
				r = r.WithContext(tc.ctx)
			}
			tok, err := a.Authenticate(r)
			if got := fv.calls.Load(); got != tc.wantCalls {
				t.Errorf("got %d verify calls, want %d", got, tc.wantCalls)
			}
			if tc.wantPass {
				if err != nil || (tok != nil) != tc.wantToken {
					t.Fatalf("got (%v, %v), want pass with token=%v", tok, err, tc.wantToken)
				}
				return
			}
			if err == nil {
				t.Fatalf("got token %v, want an error", tok)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("got error %v, want one matching %v", err, tc.wantErr)
			}
			w := httptest.NewRecorder()
			a.WriteError(w, r, err)
			res := w.Result()
			if res.StatusCode != tc.wantStatus {
				t.Errorf("got status %d, want %d", res.StatusCode, tc.wantStatus)
			}
			if got := res.Header.Get("WWW-Authenticate"); got != tc.wantWWW {
				t.Errorf("got WWW-Authenticate %q, want %q", got, tc.wantWWW)
			}
			if got := res.Header.Get("Retry-After"); got != tc.wantRetry {
				t.Errorf("got Retry-After %q, want %q", got, tc.wantRetry)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("got Cache-Control %q, want no-store", got)
			}
			var body middleware.ErrorBody
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatalf("decoding body: %v", err)
			}
			if body.Error != tc.wantCode || body.Description == "" {
				t.Errorf("got body %+v, want error %q with a description", body, tc.wantCode)
			}
			dump := w.Body.String() + res.Header.Get("WWW-Authenticate")
			for _, secret := range []string{goodToken, "secret detail", "leaky"} {
				if strings.Contains(dump, secret) {
					t.Errorf("response %q contains %q", dump, secret)
				}
			}
		})
	}
}

func TestErrorHandlerOverride(t *testing.T) {
	var got error
	a, err := middleware.New(&fixedVerifier{}, middleware.WithAnyAudience(), middleware.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}))
	if err != nil {
		t.Fatal(err)
	}
	r := requestWith()
	_, aerr := a.Authenticate(r)
	w := httptest.NewRecorder()
	a.WriteError(w, r, aerr)
	if w.Code != http.StatusTeapot || !errors.Is(got, middleware.ErrMissingToken) {
		t.Fatalf("got status %d and error %v, want 418 and ErrMissingToken", w.Code, got)
	}
	if a.ErrorHandler() == nil {
		t.Fatal("got nil ErrorHandler(), want the override")
	}
}

func TestNilTokenFailsClosed(t *testing.T) {
	a, err := middleware.New(middleware.VerifierFunc(func(context.Context, string, string) (*verifier.Token, error) { return nil, nil }),
		middleware.WithAnyAudience())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Authenticate(requestWith("Bearer " + goodToken))
	if err == nil || a.Response(err).Status != http.StatusInternalServerError {
		t.Fatalf("got (%v, %v), want a 500 error", tok, err)
	}
}

// TestNewValidates builds on a verifier that needs no audience, so that each
// error comes from the option under test (TestNewAudience covers the rest).
func TestNewValidates(t *testing.T) {
	v := &fixedVerifier{scoped: true}
	if a, err := middleware.New(v); err != nil || a == nil {
		t.Fatalf("no options: got (%v, %v), want an Authenticator", a, err)
	}
	for _, tc := range []struct {
		name string
		v    middleware.Verifier
		opts []middleware.Option
	}{
		{"nil verifier", nil, nil},
		{"nil option", v, []middleware.Option{nil}},
		{"nil extractor", v, []middleware.Option{middleware.WithExtractor(nil)}},
		{"audience not a machine", v, []middleware.Option{middleware.WithAudience("svc")}},
		{"audience with a space", v, []middleware.Option{middleware.WithAudience("mch_a b")}},
		{"audience with a newline", v, []middleware.Option{middleware.WithAudience("mch_ab\n")}},
		{"no subjects", v, []middleware.Option{middleware.WithAllowedSubjects()}},
		{"empty subject", v, []middleware.Option{middleware.WithAllowedSubjects("")}},
		{"nil check", v, []middleware.Option{middleware.WithCheck(nil)}},
		{"nil skipper", v, []middleware.Option{middleware.WithSkipper(nil)}},
		{"nil error handler", v, []middleware.Option{middleware.WithErrorHandler(nil)}},
		{"realm with quote", v, []middleware.Option{middleware.WithRealm(`a"b`)}},
		{"empty realm", v, []middleware.Option{middleware.WithRealm("")}},
		{"zero retry-after", v, []middleware.Option{middleware.WithRetryAfter(0)}},
		{"huge retry-after", v, []middleware.Option{middleware.WithRetryAfter(2 * time.Hour)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := middleware.New(tc.v, tc.opts...)
			if err == nil {
				t.Fatalf("got (%v, nil), want an error", a)
			}
			if errors.Is(err, middleware.ErrNoAudience) {
				t.Fatalf("got %v, want the option's own error", err)
			}
		})
	}
}

func TestContext(t *testing.T) {
	if tok, ok := middleware.TokenFromContext(context.Background()); ok || tok != nil {
		t.Fatalf("empty context: got (%v, %v), want (nil, false)", tok, ok)
	}
	want := validToken()
	if got, ok := middleware.TokenFromContext(middleware.NewContext(context.Background(), want)); !ok || got != want {
		t.Fatalf("got (%v, %v), want (%v, true)", got, ok, want)
	}
	if got, ok := middleware.TokenFromContext(middleware.NewContext(context.Background(), nil)); ok || got != nil {
		t.Fatalf("nil token: got (%v, %v), want (nil, false)", got, ok)
	}
}

func TestAuthenticateDoesNotAllocate(t *testing.T) {
	// The Verifier gets the source as an argument: no context is made for it.
	a, err := middleware.New(&fixedVerifier{tok: validToken()},
		middleware.WithAudience(receiverID), middleware.WithAllowedSubjects(callerID))
	if err != nil {
		t.Fatal(err)
	}
	r := requestWith("Bearer " + goodToken)
	if n := testing.AllocsPerRun(100, func() { _, _ = a.Authenticate(r) }); n != 0 {
		t.Fatalf("got %v allocations, want 0", n)
	}
}

// TestConcurrentUse runs one Authenticator from many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	fv := &fixedVerifier{tok: validToken()}
	a, err := middleware.New(fv, middleware.WithAudience(receiverID), middleware.WithAllowedSubjects(callerID))
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	errs := make(chan error, n)
	for i := range n {
		go func() {
			auth := "Bearer " + goodToken
			if i%2 == 1 {
				auth = "Bearer mt_unknown"
			}
			tok, err := a.Authenticate(requestWith(auth))
			switch {
			case i%2 == 0 && (err != nil || tok == nil):
				errs <- errors.New("valid token refused")
			case i%2 == 1 && !errors.Is(err, verifier.ErrInvalidToken):
				errs <- errors.New("invalid token accepted")
			default:
				errs <- nil
			}
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := fv.calls.Load(); got != n {
		t.Fatalf("got %d verify calls, want %d", got, n)
	}
}
