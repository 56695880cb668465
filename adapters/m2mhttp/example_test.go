package m2mhttp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

func ExampleMiddleware() {
	// In production: v, err := verifier.New(os.Getenv("CLERK_SECRET_KEY")).
	v := middleware.VerifierFunc(func(_ context.Context, tok, _ string) (*verifier.Token, error) {
		if tok == "mt_good" {
			return &verifier.Token{Subject: "mch_caller", Scopes: []string{"mch_me"}}, nil
		}
		return nil, &verifier.InvalidTokenError{Reason: "token not found"}
	})
	a, err := middleware.New(v, middleware.WithAudience("mch_me"))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		tok, _ := m2mhttp.Token(r)
		fmt.Fprintln(w, "hello", tok.Subject)
	})
	h := m2mhttp.Middleware(a)(mux)

	for _, auth := range []string{"Bearer mt_good", "Bearer mt_bad", ""} {
		r := httptest.NewRequest(http.MethodGet, "/whoami", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%d %s %s", w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())
		if w.Code != 200 {
			fmt.Println()
		}
	}
	// Output:
	// 200  hello mch_caller
	// 401 Bearer realm="api", error="invalid_token", error_description="token not found" {"error":"invalid_token","error_description":"token not found"}
	// 401 Bearer realm="api" {"error":"missing_token","error_description":"no bearer token"}
}
