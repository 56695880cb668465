package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// Every error Authenticate can return, and the answer an adapter writes for it.
func ExampleAuthenticator_Response() {
	v := middleware.VerifierFunc(func(context.Context, string) (*verifier.Token, error) { return nil, nil })
	a, _ := middleware.New(v, middleware.WithRealm("billing"))
	for _, err := range []error{
		&middleware.MissingTokenError{Reason: "no bearer token"},
		&verifier.InvalidTokenError{Reason: "token expired"},
		middleware.Forbidden("token not scoped to this service"),
		&verifier.UnavailableError{RetryAfter: 7 * time.Second, Err: errors.New("429")},
		verifier.ErrMisconfigured,
	} {
		r := a.Response(err)
		fmt.Printf("%d %q retry=%q %s\n", r.Status, r.WWWAuthenticate, r.RetryAfter, r.JSON())
	}
	// Output:
	// 401 "Bearer realm=\"billing\"" retry="" {"error":"missing_token","error_description":"no bearer token"}
	// 401 "Bearer realm=\"billing\", error=\"invalid_token\", error_description=\"token expired\"" retry="" {"error":"invalid_token","error_description":"token expired"}
	// 403 "Bearer realm=\"billing\", error=\"insufficient_scope\", error_description=\"token not scoped to this service\"" retry="" {"error":"insufficient_scope","error_description":"token not scoped to this service"}
	// 503 "" retry="7" {"error":"temporarily_unavailable","error_description":"token verification is temporarily unavailable"}
	// 500 "" retry="" {"error":"server_error","error_description":"token verification is misconfigured"}
}

// A custom policy: only tokens whose claims say {"role":"reporter"}.
func ExampleWithCheck() {
	v := middleware.VerifierFunc(func(_ context.Context, tok string) (*verifier.Token, error) {
		return &verifier.Token{Subject: "mch_caller", Claims: []byte(`{"role":"` + tok + `"}`)}, nil
	})
	a, _ := middleware.New(v, middleware.WithCheck(func(_ context.Context, t *verifier.Token) error {
		var c struct{ Role string }
		if err := t.DecodeClaims(&c); err != nil || c.Role != "reporter" {
			return middleware.Forbidden("reporters only")
		}
		return nil
	}))
	for _, role := range []string{"reporter", "intern"} {
		r, _ := http.NewRequest(http.MethodGet, "http://svc/api/reports", nil)
		r.Header.Set("Authorization", "Bearer "+role)
		tok, err := a.Authenticate(r)
		if err != nil {
			fmt.Println(role, "->", a.Response(err).Status, errors.Is(err, middleware.ErrForbidden))
			continue
		}
		fmt.Println(role, "->", tok.Subject)
	}
	// Output:
	// reporter -> mch_caller
	// intern -> 403 true
}
