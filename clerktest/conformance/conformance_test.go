package conformance_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

// rawCase is a testkit.RawCase written positionally in the table below.
type rawCase testkit.RawCase

// TestConformance drives every endpoint through its answers and errors,
// checks statuses and Clerk error codes, and validates every answer against
// Clerk's OpenAPI spec.
func TestConformance(t *testing.T) {
	f := testkit.NewFixture(t)
	srv := f.Srv
	rec := &recorder{}
	hc := &http.Client{Transport: rec, Timeout: 10 * time.Second}

	live := testkit.MustCreate(t, srv, f.Caller.ID, clerkapi.CreateParams{Claims: map[string]any{"role": "reader"}})
	toRevoke := testkit.MustCreate(t, srv, f.Caller.ID, clerkapi.CreateParams{})
	revoked := testkit.MustCreate(t, srv, f.Caller.ID, clerkapi.CreateParams{})
	if err := srv.RevokeToken(revoked.ID, "compromised"); err != nil {
		t.Fatal(err)
	}
	expiring := testkit.MustCreate(t, srv, f.Caller.ID, clerkapi.CreateParams{SecondsUntilExpiration: clerkapi.Int64(60)})
	jwtLive := testkit.MustCreate(t, srv, f.Caller.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT, Claims: map[string]any{"tier": 2}})
	jwtLoner := testkit.MustCreate(t, srv, f.Loner.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT})
	jwtExpiring := testkit.MustCreate(t, srv, f.Caller.ID, clerkapi.CreateParams{TokenFormat: clerkapi.FormatJWT, SecondsUntilExpiration: clerkapi.Int64(60)})
	lonerTok := testkit.MustCreate(t, srv, f.Loner.ID, clerkapi.CreateParams{})
	f.Clock.Advance(2 * time.Minute) // expiring and jwtExpiring are now expired
	tampered := jwtLive.Token[:len(jwtLive.Token)-4] + "AAAA"
	extra := srv.CreateMachine("extra")
	var many []string
	for range 150 {
		many = append(many, srv.CreateMachine("filler").ID)
	}
	full := srv.CreateMachine("full", many...)
	tooMany, _ := json.Marshal(map[string]any{"name": "too many", "scoped_machines": append(many, f.Receiver.ID)})

	sk, ak, recv, lone := srv.SecretKey, f.Caller.SecretKey, f.Receiver.SecretKey, f.Loner.SecretKey
	verify := func(tok string) string { b, _ := json.Marshal(map[string]string{"token": tok}); return string(b) }
	huge := `{"claims":"` + strings.Repeat("x", 2<<20) + `"}`
	mid := "/machines/" + f.Caller.ID

	cases := []rawCase{
		// authentication
		{"no key", "-", "GET", "/jwks", "", 401, "unauthorized"},
		{"wrong sk key", "sk_test_nope", "GET", "/jwks", "", 401, "unauthorized"},
		{"unknown ak key", "ak_nope", "POST", "/m2m_tokens/verify", verify(live.Token), 401, "machine_secret_key_invalid"},
		{"garbage key", "x", "POST", "/m2m_tokens", `{}`, 401, "unauthorized"},

		// GET /jwks
		{"jwks", sk, "GET", "/jwks", "", 200, ""},
		{"jwks with machine key", ak, "GET", "/jwks", "", 403, "authorization_invalid"},
		{"jwks wrong method", sk, "POST", "/jwks", "", 405, "method_not_allowed"},

		// POST /m2m_tokens
		{"create opaque", ak, "POST", "/m2m_tokens", `{}`, 201, ""},
		{"create full", ak, "POST", "/m2m_tokens", `{"token_format":"opaque","seconds_until_expiration":120,"claims":{"a":[1,2]},"min_remaining_ttl_seconds":30}`, 201, ""},
		{"create reuse", ak, "POST", "/m2m_tokens", `{"claims":{"a":[1,2]},"seconds_until_expiration":120,"min_remaining_ttl_seconds":30}`, 201, ""},
		{"create null fields", ak, "POST", "/m2m_tokens", `{"seconds_until_expiration":null,"claims":null}`, 201, ""},
		{"create jwt", ak, "POST", "/m2m_tokens", `{"token_format":"jwt","claims":{"x":"y"}}`, 201, ""},
		{"create with instance key", sk, "POST", "/m2m_tokens", `{}`, 401, "machine_secret_key_invalid"},
		{"create unknown field", ak, "POST", "/m2m_tokens", `{"scopes":["x"]}`, 400, "form_param_unknown"},
		{"create token_format wrong type", ak, "POST", "/m2m_tokens", `{"token_format":1}`, 400, "form_param_format_invalid"},
		{"create token_format null", ak, "POST", "/m2m_tokens", `{"token_format":null}`, 400, "form_param_format_invalid"},
		{"create token_format unknown", ak, "POST", "/m2m_tokens", `{"token_format":"paseto"}`, 400, "form_param_value_invalid"},
		{"create zero lifetime", ak, "POST", "/m2m_tokens", `{"seconds_until_expiration":0}`, 400, "form_param_value_invalid"},
		{"create negative lifetime", ak, "POST", "/m2m_tokens", `{"seconds_until_expiration":-5}`, 400, "form_param_value_invalid"},
		{"create lifetime string", ak, "POST", "/m2m_tokens", `{"seconds_until_expiration":"60"}`, 400, "form_param_format_invalid"},
		{"create huge lifetime", ak, "POST", "/m2m_tokens", `{"seconds_until_expiration":1e300}`, 400, "form_param_value_invalid"},
		{"create min ttl negative", ak, "POST", "/m2m_tokens", `{"min_remaining_ttl_seconds":-1}`, 400, "form_param_value_invalid"},
		{"create min ttl = lifetime", ak, "POST", "/m2m_tokens", `{"seconds_until_expiration":60,"min_remaining_ttl_seconds":60}`, 400, "form_param_value_invalid"},
		{"create min ttl = default lifetime", ak, "POST", "/m2m_tokens", `{"min_remaining_ttl_seconds":3600}`, 400, "form_param_value_invalid"},
		{"create min ttl fractional", ak, "POST", "/m2m_tokens", `{"min_remaining_ttl_seconds":1.5}`, 400, "form_param_format_invalid"},
		{"create jwt claims not object", ak, "POST", "/m2m_tokens", `{"token_format":"jwt","claims":[1]}`, 400, "form_param_format_invalid"},
		{"create bad JSON", ak, "POST", "/m2m_tokens", `{"claims":`, 400, "request_body_invalid"},
		{"create empty body", ak, "POST", "/m2m_tokens", ``, 400, "request_body_invalid"},
		{"create array body", ak, "POST", "/m2m_tokens", `[]`, 400, "request_body_invalid"},
		{"create null body", ak, "POST", "/m2m_tokens", `null`, 400, "request_body_invalid"},
		{"create huge body", ak, "POST", "/m2m_tokens", huge, 413, "request_body_too_large"},
		{"m2m_tokens wrong method", ak, "DELETE", "/m2m_tokens", "", 405, "method_not_allowed"},

		// GET /m2m_tokens
		{"list as instance", sk, "GET", "/m2m_tokens?subject=" + f.Caller.ID, "", 200, ""},
		{"list as owner", ak, "GET", "/m2m_tokens?subject=" + f.Caller.ID + "&revoked=true&expired=true&limit=2&offset=1", "", 200, ""},
		{"list empty boolean", sk, "GET", "/m2m_tokens?subject=" + f.Caller.ID + "&revoked=", "", 400, "bad_request"},
		{"list empty limit", sk, "GET", "/m2m_tokens?subject=" + f.Caller.ID + "&limit=", "", 400, "bad_request"},
		{"list empty subject", sk, "GET", "/m2m_tokens?subject=", "", 400, "bad_request"},
		{"list limit 1.0", sk, "GET", "/m2m_tokens?subject=" + f.Caller.ID + "&limit=1.0", "", 200, ""},
		{"list unknown query parameter", sk, "GET", "/m2m_tokens?subject=" + f.Caller.ID + "&foo=bar", "", 200, ""},
		{"list empty machine", sk, "GET", "/m2m_tokens?subject=" + extra.ID, "", 200, ""},
		{"list other machine", recv, "GET", "/m2m_tokens?subject=" + f.Caller.ID, "", 403, "authorization_invalid"},
		{"list unknown machine", sk, "GET", "/m2m_tokens?subject=mch_000000000000000000000000000", "", 404, "resource_not_found"},
		{"list no subject", sk, "GET", "/m2m_tokens", "", 400, "bad_request"},
		{"list bad subject", sk, "GET", "/m2m_tokens?subject=user_123", "", 400, "bad_request"},
		{"list bad revoked", sk, "GET", "/m2m_tokens?subject=" + f.Caller.ID + "&revoked=maybe", "", 400, "bad_request"},
		{"list bad expired", sk, "GET", "/m2m_tokens?subject=" + f.Caller.ID + "&expired=1", "", 400, "bad_request"},
		{"list limit 0", sk, "GET", "/m2m_tokens?subject=" + f.Caller.ID + "&limit=0", "", 400, "bad_request"},
		{"list limit 101", sk, "GET", "/m2m_tokens?subject=" + f.Caller.ID + "&limit=101", "", 400, "bad_request"},
		{"list limit text", sk, "GET", "/m2m_tokens?subject=" + f.Caller.ID + "&limit=ten", "", 400, "bad_request"},
		{"list offset negative", sk, "GET", "/m2m_tokens?subject=" + f.Caller.ID + "&offset=-1", "", 400, "bad_request"},
		{"list bad query string", sk, "GET", "/m2m_tokens?subject=%zz", "", 400, "bad_request"},

		// POST /m2m_tokens/{id}/revoke
		{"revoke as owner", ak, "POST", "/m2m_tokens/" + toRevoke.ID + "/revoke", `{"revocation_reason":"rotated"}`, 200, ""},
		{"revoke again", sk, "POST", "/m2m_tokens/" + toRevoke.ID + "/revoke", `{"revocation_reason":null}`, 200, ""},
		{"revoke empty object", sk, "POST", "/m2m_tokens/" + lonerTok.ID + "/revoke", `{}`, 200, ""},
		{"revoke other machine's", recv, "POST", "/m2m_tokens/" + live.ID + "/revoke", `{"revocation_reason":null}`, 404, "resource_not_found"},
		{"revoke unknown", sk, "POST", "/m2m_tokens/mt_00000000000000000000000000000000/revoke", `{"revocation_reason":null}`, 404, "resource_not_found"},
		{"revoke jwt id", sk, "POST", "/m2m_tokens/" + jwtLive.ID + "/revoke", `{"revocation_reason":null}`, 404, "resource_not_found"},
		{"revoke bad id", sk, "POST", "/m2m_tokens/mt_xyz/revoke", `{"revocation_reason":null}`, 400, "bad_request"},
		{"revoke opaque value as id", sk, "POST", "/m2m_tokens/" + live.Token + "/revoke", `{"revocation_reason":null}`, 400, "bad_request"},
		{"revoke no body", sk, "POST", "/m2m_tokens/" + live.ID + "/revoke", ``, 400, "request_body_invalid"},
		{"revoke unknown field", sk, "POST", "/m2m_tokens/" + live.ID + "/revoke", `{"reason":"x"}`, 400, "form_param_unknown"},
		{"revoke reason number", sk, "POST", "/m2m_tokens/" + live.ID + "/revoke", `{"revocation_reason":5}`, 400, "form_param_format_invalid"},
		{"revoke wrong method", sk, "GET", "/m2m_tokens/" + live.ID + "/revoke", "", 405, "method_not_allowed"},

		// POST /m2m_tokens/verify
		{"verify as instance", sk, "POST", "/m2m_tokens/verify", verify(live.Token), 200, ""},
		{"verify as scoped machine", recv, "POST", "/m2m_tokens/verify", verify(live.Token), 200, ""},
		{"verify as unscoped machine", lone, "POST", "/m2m_tokens/verify", verify(live.Token), 404, "resource_not_found"},
		{"verify as creator", ak, "POST", "/m2m_tokens/verify", verify(live.Token), 404, "resource_not_found"},
		{"verify unknown", sk, "POST", "/m2m_tokens/verify", verify("mt_0123456789abcdefghijklmnopqrstuv"), 404, "resource_not_found"},
		{"verify token id", sk, "POST", "/m2m_tokens/verify", verify(live.ID), 404, "resource_not_found"},
		{"verify revoked", sk, "POST", "/m2m_tokens/verify", verify(revoked.Token), 404, "resource_not_found"},
		{"verify expired", sk, "POST", "/m2m_tokens/verify", verify(expiring.Token), 404, "resource_not_found"},
		{"verify empty token", sk, "POST", "/m2m_tokens/verify", verify(""), 404, "resource_not_found"},
		{"verify jwt as instance", sk, "POST", "/m2m_tokens/verify", verify(jwtLive.Token), 200, ""},
		{"verify jwt as scoped machine", recv, "POST", "/m2m_tokens/verify", verify(jwtLive.Token), 200, ""},
		{"verify jwt without scopes", sk, "POST", "/m2m_tokens/verify", verify(jwtLoner.Token), 200, ""},
		{"verify jwt unscoped machine", lone, "POST", "/m2m_tokens/verify", verify(jwtLive.Token), 404, "resource_not_found"},
		{"verify jwt expired", sk, "POST", "/m2m_tokens/verify", verify(jwtExpiring.Token), 404, "resource_not_found"},
		{"verify jwt tampered", sk, "POST", "/m2m_tokens/verify", verify(tampered), 404, "resource_not_found"},
		{"verify jwt garbage", sk, "POST", "/m2m_tokens/verify", verify("a.b.c"), 404, "resource_not_found"},
		{"verify missing token", sk, "POST", "/m2m_tokens/verify", `{}`, 400, "form_param_missing"},
		{"verify token null", sk, "POST", "/m2m_tokens/verify", `{"token":null}`, 400, "form_param_format_invalid"},
		{"verify token number", sk, "POST", "/m2m_tokens/verify", `{"token":42}`, 400, "form_param_format_invalid"},
		{"verify extra field", sk, "POST", "/m2m_tokens/verify", `{"token":"mt_x","scope":"y"}`, 400, "form_param_unknown"},
		{"verify no body", sk, "POST", "/m2m_tokens/verify", ``, 400, "request_body_invalid"},
		{"verify bad JSON", sk, "POST", "/m2m_tokens/verify", `{"token":"mt_`, 400, "request_body_invalid"},
		{"verify huge body", sk, "POST", "/m2m_tokens/verify", huge, 413, "request_body_too_large"},
		{"verify wrong method", sk, "GET", "/m2m_tokens/verify", "", 405, "method_not_allowed"},

		// /machines
		{"machines list", sk, "GET", "/machines?limit=2&offset=1&order_by=name", "", 200, ""},
		{"machines list query", sk, "GET", "/machines?query=CALL", "", 200, ""},
		{"machines list bad limit", sk, "GET", "/machines?limit=0", "", 400, "bad_request"},
		{"machines list empty order", sk, "GET", "/machines?order_by=", "", 400, "bad_request"},
		{"machines list empty query", sk, "GET", "/machines?query=", "", 200, ""},
		{"machines list bad order", sk, "GET", "/machines?order_by=-id", "", 400, "bad_request"},
		{"machines with machine key", ak, "GET", "/machines", "", 403, "authorization_invalid"},
		{"machine create", sk, "POST", "/machines", `{"name":"new","scoped_machines":["` + f.Receiver.ID + `"],"default_token_ttl":60}`, 200, ""},
		{"machine create minimal", sk, "POST", "/machines", `{"name":"plain"}`, 200, ""},
		{"machine create no name", sk, "POST", "/machines", `{}`, 400, "form_param_missing"},
		{"machine create empty name", sk, "POST", "/machines", `{"name":""}`, 400, "form_param_value_invalid"},
		{"machine create unknown scope", sk, "POST", "/machines", `{"name":"n","scoped_machines":["mch_000000000000000000000000000"]}`, 400, "form_param_value_invalid"},
		{"machine create bad scopes type", sk, "POST", "/machines", `{"name":"n","scoped_machines":"x"}`, 400, "form_param_format_invalid"},
		{"machine create 151 scopes", sk, "POST", "/machines", string(tooMany), 400, "form_param_value_invalid"},
		{"machine scope add 151st", sk, "POST", "/machines/" + full.ID + "/scopes", `{"to_machine_id":"` + f.Receiver.ID + `"}`, 400, "form_param_value_invalid"},
		{"machine create bad ttl", sk, "POST", "/machines", `{"name":"n","default_token_ttl":0}`, 400, "form_param_value_invalid"},
		{"machine create unknown field", sk, "POST", "/machines", `{"name":"n","color":"red"}`, 400, "form_param_unknown"},
		{"machine get", sk, "GET", mid, "", 200, ""},
		{"machine get unknown", sk, "GET", "/machines/mch_000000000000000000000000000", "", 404, "resource_not_found"},
		{"machine get bad id", sk, "GET", "/machines/%00%ff", "", 404, "resource_not_found"},
		{"machine update empty body", sk, "PATCH", "/machines/" + extra.ID, "", 200, ""},
		{"machine update ttl 5.0", sk, "PATCH", "/machines/" + extra.ID, `{"default_token_ttl":5.0}`, 200, ""},
		{"machine update", sk, "PATCH", "/machines/" + extra.ID, `{"name":"renamed","default_token_ttl":120}`, 200, ""},
		{"machine update bad ttl", sk, "PATCH", "/machines/" + extra.ID, `{"default_token_ttl":"x"}`, 400, "form_param_format_invalid"},
		{"machine update unknown", sk, "PATCH", "/machines/mch_000000000000000000000000000", `{}`, 404, "resource_not_found"},
		{"machine secret key", sk, "GET", mid + "/secret_key", "", 200, ""},
		{"machine secret key unknown", sk, "GET", "/machines/nope/secret_key", "", 404, "resource_not_found"},
		{"machine scope add", sk, "POST", "/machines/" + extra.ID + "/scopes", `{"to_machine_id":"` + f.Receiver.ID + `"}`, 200, ""},
		{"machine scope add again", sk, "POST", "/machines/" + extra.ID + "/scopes", `{"to_machine_id":"` + f.Receiver.ID + `"}`, 409, "duplicate_record"},
		{"machine scope add unknown", sk, "POST", "/machines/" + extra.ID + "/scopes", `{"to_machine_id":"mch_000000000000000000000000000"}`, 404, "resource_not_found"},
		{"machine scope add missing", sk, "POST", "/machines/" + extra.ID + "/scopes", `{}`, 400, "form_param_missing"},
		{"machine scope delete", sk, "DELETE", "/machines/" + extra.ID + "/scopes/" + f.Receiver.ID, "", 200, ""},
		{"machine scope delete again", sk, "DELETE", "/machines/" + extra.ID + "/scopes/" + f.Receiver.ID, "", 404, "resource_not_found"},
		{"machine rotate", sk, "POST", "/machines/" + extra.ID + "/secret_key/rotate", `{"previous_token_ttl":0}`, 200, ""},
		{"machine rotate no body", sk, "POST", "/machines/" + extra.ID + "/secret_key/rotate", ``, 400, "request_body_invalid"},
		{"machine rotate missing ttl", sk, "POST", "/machines/" + extra.ID + "/secret_key/rotate", `{}`, 400, "form_param_missing"},
		{"machine rotate ttl too big", sk, "POST", "/machines/" + extra.ID + "/secret_key/rotate", `{"previous_token_ttl":28801}`, 400, "form_param_value_invalid"},
		{"machine delete", sk, "DELETE", "/machines/" + extra.ID, "", 200, ""},
		{"machine delete again", sk, "DELETE", "/machines/" + extra.ID, "", 404, "resource_not_found"},
		{"machine wrong method", sk, "PUT", mid, "", 405, "method_not_allowed"},

		// unknown paths
		{"unknown path", sk, "GET", "/users", "", 404, "resource_not_found"},
		{"unknown m2m path", sk, "GET", "/m2m_tokens/" + live.ID, "", 404, "resource_not_found"},
		{"trailing slash", sk, "GET", "/jwks/", "", 404, "resource_not_found"},
		{"unknown machines sub-path", sk, "GET", mid + "/tokens", "", 404, "resource_not_found"},
		{"path traversal", sk, "GET", "/../jwks", "", 404, "resource_not_found"},
	}
	for _, c := range cases {
		resp, body := testkit.SendRaw(t, hc, srv.URL, testkit.RawCase(c))
		if resp.StatusCode != c.Want {
			t.Errorf("%s: got status %d, want %d (body %.300s)", c.Name, resp.StatusCode, c.Want, body)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: got Content-Type %q, want application/json", c.Name, ct)
		}
		if c.Want == 405 && resp.Header.Get("Allow") == "" {
			t.Errorf("%s: got no Allow header on 405", c.Name)
		}
		if c.Code == "" {
			continue
		}
		var eb clerkapi.ErrorBody
		if err := json.Unmarshal(body, &eb); err != nil || len(eb.Errors) == 0 {
			t.Errorf("%s: got body %.300s, want Clerk's error body", c.Name, body)
			continue
		}
		if eb.Errors[0].Code != c.Code || eb.Errors[0].Message == "" || eb.Errors[0].LongMessage == "" || eb.ClerkTraceID == "" {
			t.Errorf("%s: got error %+v (trace %q), want code %q with messages and a trace ID", c.Name, eb.Errors[0], eb.ClerkTraceID, c.Code)
		}
	}

	// Statuses injected by faults are Clerk error bodies too.
	for _, fc := range []struct {
		name  string
		fault func() clerktest.Fault
		want  int
	}{
		{"rate limited", func() clerktest.Fault { return clerktest.RateLimited(3 * time.Second) }, 429},
		{"fail 500", func() clerktest.Fault { return clerktest.FailNext(1, 500) }, 500},
		{"fail 502", func() clerktest.Fault { return clerktest.FailNext(1, 502) }, 502},
		{"fail 503", func() clerktest.Fault { return clerktest.FailNext(1, 503) }, 503},
		{"rate limit", func() clerktest.Fault { return clerktest.RateLimit(0, time.Minute) }, 429},
	} {
		for _, c := range []rawCase{
			{fc.name + " verify", sk, "POST", "/m2m_tokens/verify", verify(live.Token), fc.want, ""},
			{fc.name + " jwks", sk, "GET", "/jwks", "", fc.want, ""},
		} {
			srv.Inject(fc.fault())
			if resp, body := testkit.SendRaw(t, hc, srv.URL, testkit.RawCase(c)); resp.StatusCode != c.Want {
				t.Errorf("%s: got status %d, want %d (%s)", c.Name, resp.StatusCode, c.Want, body)
			}
		}
		srv.ClearFaults()
	}
	validateAll(t, rec.exchanges())
}
