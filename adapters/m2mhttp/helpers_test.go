package m2mhttp_test

import (
	"context"
	"net/http"
	"time"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

const goodToken = "mt_0123456789abcdefghijklmnopqrstuv"

var theToken = &verifier.Token{
	ID: "mt_00000000000000000000000000000001", Subject: "mch_caller", Scopes: []string{"mch_receiver"},
	ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Format: verifier.FormatOpaque,
}

// fixed is a test double: goodToken is valid, "mt_down" means Clerk is
// unavailable, anything else is invalid.
var fixed = middleware.VerifierFunc(func(_ context.Context, tok string) (*verifier.Token, error) {
	switch tok {
	case goodToken:
		return theToken, nil
	case "mt_down":
		return nil, &verifier.UnavailableError{RetryAfter: 4 * time.Second}
	}
	return nil, &verifier.InvalidTokenError{Reason: "token not found"}
})

// discard is an http.ResponseWriter that allocates nothing per request.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
