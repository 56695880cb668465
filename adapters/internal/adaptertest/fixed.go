package adaptertest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// GoodToken is the M2M token Fixed accepts, APIKey its API key.
const (
	GoodToken = "mt_0123456789abcdefghijklmnopqrstuv"
	APIKey    = "ak_0123456789abcdefghijklmnopqrstuv"
)

// Audience is the machine ID Token is scoped to: the service under test.
const Audience = "mch_receiver"

// Token is what Fixed answers for GoodToken; an adapter must hand this very
// pointer to the next handler.
var Token = &verifier.Token{
	ID: "mt_00000000000000000000000000000001", Subject: "mch_caller", Scopes: []string{Audience},
	ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Format: clerkapi.FormatOpaque,
}

// KeyToken is what Fixed answers for APIKey: an API key of a user, with the
// scope "orders:read".
var KeyToken = &verifier.Token{
	Kind: verifier.KindAPIKey, ID: "ak_00000000000000000000000000000001", Subject: "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
	Scopes: []string{"orders:read"}, Name: "ci", Format: clerkapi.FormatOpaque,
}

// Fixed is a test double: GoodToken and APIKey are valid, "mt_down" means Clerk is
// unavailable (retry after 4 s), "mt_flood" that the request's source spent
// its budget (retry after 7 s), anything else is invalid.
var Fixed fixed

type fixed struct{}

func (fixed) Verify(_ context.Context, tok, _ string) (*verifier.Token, error) {
	switch tok {
	case GoodToken:
		return Token, nil
	case APIKey:
		return KeyToken, nil
	case "mt_down":
		return nil, &verifier.UnavailableError{RetryAfter: 4 * time.Second}
	case "mt_flood":
		return nil, &verifier.RateLimitedError{RetryAfter: 7 * time.Second}
	}
	return nil, &verifier.InvalidTokenError{Reason: "token not found"}
}

// NewReceiver returns the authenticator of the service Token is scoped to:
// New(tb, middleware.WithAudience(Audience)).
func NewReceiver(tb testing.TB) *middleware.Authenticator {
	tb.Helper()
	return New(tb, middleware.WithAudience(Audience))
}

// NewTeapot returns the receiver's authenticator (Audience) whose
// WithErrorHandler answers 418 I'm a teapot, and where that handler stores
// the error it was given.
func NewTeapot(tb testing.TB) (a *middleware.Authenticator, got *error) {
	tb.Helper()
	got = new(error)
	a = New(tb, middleware.WithAudience(Audience), middleware.WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, err error) {
		*got = err
		w.WriteHeader(http.StatusTeapot)
	}))
	return a, got
}

// New returns middleware.New(Fixed, opts...), failing tb on error. Fixed is
// a custom Verifier that does not enforce the audience, so opts need
// WithAudience or WithAnyAudience.
func New(tb testing.TB, opts ...middleware.Option) *middleware.Authenticator {
	tb.Helper()
	a, err := middleware.New(Fixed, opts...)
	if err != nil {
		tb.Fatalf("middleware.New: %v", err)
	}
	return a
}
