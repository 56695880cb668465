package clerktest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// TestVerifyBodyTokenOrSecret checks that verify takes the token's value as
// "token" (the spec, Go and JS SDKs) or as "secret" (Clerk's Python and C#
// SDKs), and that sending neither or both is a Clerk-shaped 400.
func TestVerifyBodyTokenOrSecret(t *testing.T) {
	f := testkit.NewFixture(t)
	opaque, err := f.Srv.CreateToken(f.Caller.ID, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	jwtTok, err := f.Srv.CreateToken(f.Caller.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	if err != nil {
		t.Fatal(err)
	}
	body := func(kv ...string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tc := range []struct {
		name      string
		body      string
		wantCode  int
		wantID    string // on 200
		wantError string // Clerk error code otherwise
		wantParam string // its meta.param_name
	}{
		{"token", body("token", opaque.Token), 200, opaque.ID, "", ""},
		{"secret", body("secret", opaque.Token), 200, opaque.ID, "", ""},
		{"secret holding a JWT", body("secret", jwtTok.Token), 200, jwtTok.ID, "", ""},
		{"secret unknown", body("secret", "mt_unknown"), 404, "", "resource_not_found", ""},
		{"neither", `{}`, 400, "", "form_param_missing", "token"},
		{"both, same value", body("token", opaque.Token, "secret", opaque.Token), 400, "", "form_param_value_invalid", "secret"},
		{"both, different values", body("token", opaque.Token, "secret", "mt_other"), 400, "", "form_param_value_invalid", "secret"},
		{"secret null", `{"secret":null}`, 400, "", "form_param_format_invalid", "secret"},
		{"secret a number", `{"secret":42}`, 400, "", "form_param_format_invalid", "secret"},
		{"secret and an unknown field", body("secret", opaque.Token, "x", "y"), 400, "", "form_param_unknown", "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), "POST", f.Srv.URL+"/m2m_tokens/verify", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+f.Receiver.SecretKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("got status %d (%s), want %d", resp.StatusCode, raw, tc.wantCode)
			}
			if tc.wantCode == 200 {
				var tok clerkapi.M2MToken
				if err := json.Unmarshal(raw, &tok); err != nil || tok.ID != tc.wantID || tok.Token != "" {
					t.Errorf("got %s (%v), want token %s without its value", raw, err, tc.wantID)
				}
				return
			}
			var eb clerkapi.ErrorBody
			if err := json.Unmarshal(raw, &eb); err != nil || len(eb.Errors) != 1 || eb.ClerkTraceID == "" {
				t.Fatalf("got body %s (%v), want one Clerk error with a trace ID", raw, err)
			}
			if got := eb.Errors[0].Code; got != tc.wantError {
				t.Errorf("got code %q, want %q", got, tc.wantError)
			}
			var meta struct {
				ParamName string `json:"param_name"`
			}
			json.Unmarshal(eb.Errors[0].Meta, &meta)
			if meta.ParamName != tc.wantParam {
				t.Errorf("got meta.param_name %q, want %q", meta.ParamName, tc.wantParam)
			}
		})
	}
	if got, want := f.Srv.Calls(clerktest.EndpointVerify), int64(10); got != want {
		t.Errorf("got %d verify calls, want %d", got, want)
	}
}
