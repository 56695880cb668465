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
	v := middleware.VerifierFunc(func(context.Context, string, string) (*verifier.Token, error) { return nil, nil })
	a, err := middleware.New(v, middleware.WithAudience("mch_billing"), middleware.WithRealm("billing"))
	if err != nil {
		panic(err)
	}
	for _, err := range []error{
		&middleware.MissingTokenError{Reason: "no bearer token"},
		&verifier.InvalidTokenError{Reason: "token expired"},
		&verifier.InvalidTokenError{Reason: "not an M2M token (neither mt_… nor a JWT)"},
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
	// 401 "Bearer realm=\"billing\", error=\"invalid_token\", error_description=\"not an M2M token (neither mt_... nor a JWT)\"" retry="" {"error":"invalid_token","error_description":"not an M2M token (neither mt_... nor a JWT)"}
	// 403 "Bearer realm=\"billing\", error=\"insufficient_scope\", error_description=\"token not scoped to this service\"" retry="" {"error":"insufficient_scope","error_description":"token not scoped to this service"}
	// 503 "" retry="7" {"error":"temporarily_unavailable","error_description":"token verification is temporarily unavailable"}
	// 500 "" retry="" {"error":"server_error","error_description":"token verification is misconfigured"}
}

// A custom policy: only tokens whose claims say {"role":"reporter"}.
func ExampleWithCheck() {
	v := middleware.VerifierFunc(func(_ context.Context, tok, _ string) (*verifier.Token, error) {
		return &verifier.Token{Subject: "mch_caller", Scopes: []string{"mch_reports"}, Claims: []byte(`{"role":"` + tok + `"}`)}, nil
	})
	a, err := middleware.New(v, middleware.WithAudience("mch_reports"), middleware.WithCheck(func(_ context.Context, t *verifier.Token) error {
		var c struct{ Role string }
		if err := t.DecodeClaims(&c); err != nil || c.Role != "reporter" {
			return middleware.Forbidden("reporters only")
		}
		return nil
	}))
	if err != nil {
		panic(err)
	}
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

// WithAudience(os.Getenv("M2M_AUDIENCE")) works with either kind of key: with
// a machine secret key (ak_…) Clerk checks the scope and an empty audience is
// fine; with a Clerk secret key (sk_…) New refuses to build an Authenticator
// that would accept any machine of the instance.
func ExampleWithAudience() {
	for _, tc := range []struct{ key, audience string }{
		{"ak_exampleMachineSecretKey", ""},
		{"sk_test_exampleInstanceSecretKey", ""},
		{"sk_test_exampleInstanceSecretKey", "mch_2yGkLpQ7Y3rXSwtU24CzTk9I7Em"},
	} {
		v, err := verifier.New(tc.key)
		if err != nil {
			panic(err)
		}
		_, err = middleware.New(v, middleware.WithAudience(tc.audience))
		fmt.Printf("%s audience=%q: ErrNoAudience=%v\n", tc.key[:3], tc.audience, errors.Is(err, middleware.ErrNoAudience))
		_ = v.Close()
	}
	// Output:
	// ak_ audience="": ErrNoAudience=false
	// sk_ audience="": ErrNoAudience=true
	// sk_ audience="mch_2yGkLpQ7Y3rXSwtU24CzTk9I7Em": ErrNoAudience=false
}
