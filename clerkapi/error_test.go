package clerkapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// TestIsClerkError: only Clerk's error JSON (errors[] with a code) counts as
// Clerk's answer; an HTML page, another JSON shape or an empty body does not.
func TestIsClerkError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		ctype  string
		body   string
		want   bool
	}{
		{"clerk 404", 404, "application/json", `{"errors":[{"message":"not found","long_message":"x","code":"resource_not_found"}],"clerk_trace_id":"t"}`, true},
		{"clerk 400, code in second entry", 400, "application/json", `{"errors":[{"message":"a"},{"message":"b","code":"form_param_unknown"}]}`, true},
		{"HTML 404", 404, "text/html", `<html><body><h1>404 Not Found</h1></body></html>`, false},
		{"plain text 404", 404, "text/plain", "404 page not found\n", false},
		{"empty body", 404, "", ``, false},
		{"other JSON", 404, "application/json", `{"error":"not_found","message":"no route"}`, false},
		{"empty errors", 422, "application/json", `{"errors":[]}`, false},
		{"errors without code", 400, "application/json", `{"errors":[{"message":"bad"}]}`, false},
		{"errors not an array", 400, "application/json", `{"errors":"bad"}`, false},
		{"JSON array", 404, "application/json", `[{"code":"resource_not_found"}]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newCannedServer(t, tc.status, tc.ctype, tc.body)
			c, err := clerkapi.New("sk_test_key", clerkapi.WithBaseURL(srv))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.VerifyToken(context.Background(), "mt_"+"0123456789abcdef0123456789abcdef")
			var ae *clerkapi.APIError
			if !errors.As(err, &ae) || ae.StatusCode != tc.status {
				t.Fatalf("got %v, want an *APIError with status %d", err, tc.status)
			}
			if got := ae.IsClerkError(); got != tc.want {
				t.Errorf("got IsClerkError() = %v, want %v (errors %+v)", got, tc.want, ae.Errors)
			}
		})
	}
}

// newCannedServer answers every request with status, Content-Type and body.
func newCannedServer(t *testing.T, status int, ctype, body string) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}
