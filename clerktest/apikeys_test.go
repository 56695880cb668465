package clerktest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// send makes one request to the emulator (base is its URL or origin) and
// returns the status and body.
func send(t *testing.T, base, key, method, path, body string) (int, []byte) {
	t.Helper()
	resp, b := testkit.SendRaw(t, http.DefaultClient, base, testkit.RawCase{Name: method + " " + path, Key: key, Method: method, Path: path, Body: body})
	return resp.StatusCode, b
}

// decode unmarshals b into a new T or fails t.
func decode[T any](t *testing.T, b []byte) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %.300s: %v", b, err)
	}
	return v
}

const (
	userID = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"
	orgID  = "org_2xhFjEI5X2qWRvtV13BzSj8H6Dk"
)

// TestAPIKeyLifecycle creates, reads, lists, verifies and revokes an API key
// over HTTP, under /v1 and at the origin (as @clerk/backend calls them).
func TestAPIKeyLifecycle(t *testing.T) {
	for _, prefix := range []string{"/v1", ""} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			f := testkit.NewFixture(t)
			base := strings.TrimSuffix(f.Srv.URL, "/v1") + prefix
			sk := f.Srv.SecretKey

			status, b := send(t, base, sk, "POST", "/api_keys",
				`{"name":"billing-export","subject":"`+orgID+`","scopes":["read","write"],"claims":{"tier":2},"description":"d","created_by":"`+userID+`","seconds_until_expiration":600}`)
			if status != 200 {
				t.Fatalf("create: got %d %s", status, b)
			}
			k := decode[clerkapi.APIKey](t, b)
			if !clerkapi.APIKeyIDPattern.MatchString(k.ID) || !strings.HasPrefix(k.Secret, "ak_") || k.Secret == k.ID ||
				k.Object != clerkapi.ObjectAPIKey || k.Type != "api_key" || k.Subject != orgID || k.Name != "billing-export" ||
				!slices.Equal(k.Scopes, []string{"read", "write"}) || string(k.Claims) != `{"tier":2}` ||
				k.Description == nil || *k.Description != "d" || k.CreatedBy == nil || *k.CreatedBy != userID ||
				!k.Expiration.Equal(testkit.T0.Add(10*time.Minute)) || !k.CreatedAt.Equal(testkit.T0) || !k.LastUsedAt.IsZero() {
				t.Fatalf("create: got %+v", k)
			}

			// Verify marks it used; the answer carries no secret.
			f.Clock.Advance(time.Minute)
			v, err := f.Admin.VerifyAPIKey(t.Context(), k.Secret)
			if err != nil || v.ID != k.ID || v.Secret != "" || !v.LastUsedAt.Equal(testkit.T0.Add(time.Minute)) {
				t.Fatalf("verify: got %+v, %v", v, err)
			}
			status, b = send(t, base, sk, "POST", "/api_keys/verify", `{"secret":"`+k.Secret+`"}`)
			if status != 200 || strings.Contains(string(b), k.Secret) {
				t.Errorf("verify over HTTP: got %d %s, want 200 without the secret", status, b)
			}

			// Get, secret, list.
			status, b = send(t, base, sk, "GET", "/api_keys/"+k.ID, "")
			if got := decode[clerkapi.APIKey](t, b); status != 200 || got.ID != k.ID || got.Secret != "" {
				t.Errorf("get: got %d %s", status, b)
			}
			status, b = send(t, base, sk, "GET", "/api_keys/"+k.ID+"/secret", "")
			if status != 200 || string(b) != `{"secret":"`+k.Secret+`"}` {
				t.Errorf("secret: got %d %s", status, b)
			}
			status, b = send(t, base, sk, "GET", "/api_keys?subject="+orgID, "")
			var list struct {
				Data       []clerkapi.APIKey `json:"data"`
				TotalCount int64             `json:"total_count"`
			}
			if json.Unmarshal(b, &list); status != 200 || list.TotalCount != 1 || len(list.Data) != 1 || list.Data[0].ID != k.ID {
				t.Errorf("list: got %d %s", status, b)
			}

			// Revoke: verify answers 404, the list hides it unless asked.
			status, b = send(t, base, sk, "POST", "/api_keys/"+k.ID+"/revoke", `{"revocation_reason":"leaked"}`)
			if got := decode[clerkapi.APIKey](t, b); status != 200 || !got.Revoked || *got.RevocationReason != "leaked" {
				t.Errorf("revoke: got %d %s", status, b)
			}
			status, b = send(t, base, sk, "POST", "/api_keys/"+k.ID+"/revoke", `{"revocation_reason":"again"}`)
			if got := decode[clerkapi.APIKey](t, b); status != 200 || *got.RevocationReason != "leaked" {
				t.Errorf("revoke again: got %d %s, want the first reason kept", status, b)
			}
			var ae *clerkapi.APIError
			if _, err := f.Admin.VerifyAPIKey(t.Context(), k.Secret); !errors.As(err, &ae) || ae.StatusCode != 404 || !ae.HasCode(clerkapi.CodeResourceNotFound) {
				t.Errorf("verify revoked: got %v, want 404 resource_not_found", err)
			}
			for q, want := range map[string]int64{"": 0, "&include_invalid=true": 1} {
				_, b = send(t, base, sk, "GET", "/api_keys?subject="+orgID+q, "")
				if got := decode[struct {
					TotalCount int64 `json:"total_count"`
				}](t, b); got.TotalCount != want {
					t.Errorf("list%s: got total %d, want %d", q, got.TotalCount, want)
				}
			}
		})
	}
}

// TestAPIKeyVerifyRefuses: what must never pass API key verification, and
// who may not ask.
func TestAPIKeyVerifyRefuses(t *testing.T) {
	f := testkit.NewFixture(t)
	live, err := f.Srv.CreateAPIKey(clerktest.APIKeyParams{Name: "live", Subject: userID})
	if err != nil {
		t.Fatal(err)
	}
	expiring, _ := f.Srv.CreateAPIKey(clerktest.APIKeyParams{Name: "short", Subject: f.Caller.ID, TTL: time.Minute})
	m2m := testkit.MustCreate(t, f.Srv, f.Caller.ID, clerkapi.CreateParams{})
	f.Clock.Advance(time.Minute)
	for _, c := range []struct {
		name, key, secret string
		status            int
		code              string
	}{
		{"live", f.Srv.SecretKey, live.Secret, 200, ""},
		{"expired", f.Srv.SecretKey, expiring.Secret, 404, clerkapi.CodeResourceNotFound},
		{"the key's ID", f.Srv.SecretKey, live.ID, 404, clerkapi.CodeResourceNotFound},
		{"a machine secret key", f.Srv.SecretKey, f.Caller.SecretKey, 404, clerkapi.CodeResourceNotFound},
		{"an M2M token", f.Srv.SecretKey, m2m.Token, 404, clerkapi.CodeResourceNotFound},
		{"empty", f.Srv.SecretKey, "", 404, clerkapi.CodeResourceNotFound},
		{"verified with a machine key", f.Caller.SecretKey, live.Secret, 401, clerkapi.CodeUnauthorized},
		{"verified with an unknown machine key", "ak_unknown", live.Secret, 401, clerkapi.CodeMachineSecretKeyInvalid},
		{"verified with the API key itself", live.Secret, live.Secret, 401, clerkapi.CodeMachineSecretKeyInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := testkit.NewClient(t, f.Srv, c.key).VerifyAPIKey(t.Context(), c.secret)
			var ae *clerkapi.APIError
			switch {
			case c.status == 200 && err != nil:
				t.Errorf("got %v, want the key", err)
			case c.status != 200 && (!errors.As(err, &ae) || ae.StatusCode != c.status || !ae.HasCode(c.code)):
				t.Errorf("got %v, want %d %s", err, c.status, c.code)
			}
		})
	}
}

func TestCreateAPIKeyParams(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	for _, c := range []struct {
		name  string
		p     clerktest.APIKeyParams
		param string // "": valid
	}{
		{"minimal", clerktest.APIKeyParams{Name: "abc", Subject: userID}, ""},
		{"machine subject", clerktest.APIKeyParams{Name: "abc", Subject: "mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk"}, ""},
		{"free-form scopes", clerktest.APIKeyParams{Name: "abc", Subject: orgID, Scopes: []string{"read", "billing:export", "x y"}}, ""},
		{"name too short", clerktest.APIKeyParams{Name: "ab", Subject: userID}, "name"},
		{"name with trailing space", clerktest.APIKeyParams{Name: "abc ", Subject: userID}, "name"},
		{"no subject", clerktest.APIKeyParams{Name: "abc"}, "subject"},
		{"scim subject", clerktest.APIKeyParams{Name: "abc", Subject: "scim_2xhFjEI5X2qWRvtV13BzSj8H6Dk"}, "subject"},
		{"instance subject", clerktest.APIKeyParams{Name: "abc", Subject: "ins_2xhFjEI5X2qWRvtV13BzSj8H6Dk"}, "subject"},
		{"long description", clerktest.APIKeyParams{Name: "abc", Subject: userID, Description: strings.Repeat("d", 256)}, "description"},
		{"bad created_by", clerktest.APIKeyParams{Name: "abc", Subject: userID, CreatedBy: orgID}, "created_by"},
		{"negative TTL", clerktest.APIKeyParams{Name: "abc", Subject: userID, TTL: -time.Second}, "seconds_until_expiration"},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := srv.CreateAPIKey(c.p)
			if c.param == "" {
				if err != nil || k.Secret == "" || k.Expiration.IsZero() != (c.p.TTL == 0) {
					t.Errorf("got %+v, %v; want a key with its secret", k, err)
				}
				return
			}
			var ae *clerkapi.APIError
			if !errors.As(err, &ae) || ae.StatusCode != 400 || len(ae.Errors) != 1 || !strings.Contains(string(ae.Errors[0].Meta), `"`+c.param+`"`) {
				t.Errorf("got %v, want a 400 about %s", err, c.param)
			}
		})
	}
	if err := srv.RevokeAPIKey("ak_00000000000000000000000000000000", "x"); err == nil {
		t.Error("RevokeAPIKey of an unknown ID: got nil, want an error")
	}
}
