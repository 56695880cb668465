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
	// API keys and OAuth access tokens, set up before the clock moves.
	const user, org = "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "org_2xhFjEI5X2qWRvtV13BzSj8H6Dk"
	apiLive := mustAPIKey(t, srv, clerktest.APIKeyParams{Name: "live key", Subject: org, Scopes: []string{"read"}, Claims: map[string]any{"t": 1}})
	apiRevoked := mustAPIKey(t, srv, clerktest.APIKeyParams{Name: "revoked key", Subject: user})
	if err := srv.RevokeAPIKey(apiRevoked.ID, "leaked"); err != nil {
		t.Fatal(err)
	}
	apiExpiring := mustAPIKey(t, srv, clerktest.APIKeyParams{Name: "short key", Subject: f.Caller.ID, TTL: time.Minute})
	apiToRevoke := mustAPIKey(t, srv, clerktest.APIKeyParams{Name: "to revoke", Subject: f.Caller.ID})
	appA, appB := srv.CreateOAuthApplication("app a"), srv.CreateOAuthApplication("app b")
	oat := func(app *clerktest.OAuthApplication, format clerkapi.TokenFormat, ttl time.Duration) string {
		tok, err := srv.CreateOAuthAccessToken(clerktest.OAuthAccessTokenParams{UserID: user, ClientID: app.ClientID, Scopes: []string{"read", "write"}, Format: format, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	oatLive, oatToRevoke, oatRevoked := oat(appA, clerkapi.FormatOpaque, 0), oat(appA, clerkapi.FormatOpaque, 0), oat(appA, clerkapi.FormatOpaque, 0)
	oatOfB, oatExpiring := oat(appB, clerkapi.FormatOpaque, 0), oat(appA, clerkapi.FormatOpaque, time.Minute)
	oauthJWT, oauthJWTExpiring := oat(appA, clerkapi.FormatJWT, time.Hour), oat(appA, clerkapi.FormatJWT, time.Minute)
	if err := srv.RevokeOAuthAccessToken(oatRevoked); err != nil {
		t.Fatal(err)
	}

	f.Clock.Advance(2 * time.Minute) // expiring, jwtExpiring, apiExpiring, oatExpiring and oauthJWTExpiring are now expired
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
	body := func(k, v string) string { b, _ := json.Marshal(map[string]string{k: v}); return string(b) }
	long := strings.Repeat("d", 256)
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

		// POST /api_keys
		{"api key create", sk, "POST", "/api_keys", `{"name":"full key","subject":"` + user + `","type":"api_key","description":"d","claims":{"a":[1]},"scopes":["read","billing:export"],"created_by":"` + user + `","seconds_until_expiration":3600}`, 200, ""},
		{"api key create minimal", sk, "POST", "/api_keys", `{"name":"min","subject":"` + f.Caller.ID + `"}`, 200, ""},
		{"api key create null fields", sk, "POST", "/api_keys", `{"name":"nulls","subject":"` + org + `","description":null,"claims":null,"created_by":null,"seconds_until_expiration":null}`, 200, ""},
		{"api key create other type", sk, "POST", "/api_keys", `{"name":"typed","subject":"` + org + `","type":"service_key"}`, 200, ""},
		{"api key create claims array", sk, "POST", "/api_keys", `{"name":"arr","subject":"` + org + `","claims":[1,2]}`, 200, ""},
		{"api key create machine key", ak, "POST", "/api_keys", `{"name":"k","subject":"` + user + `"}`, 401, "unauthorized"},
		{"api key create no name", sk, "POST", "/api_keys", `{"subject":"` + user + `"}`, 400, "form_param_missing"},
		{"api key create short name", sk, "POST", "/api_keys", `{"name":"ab","subject":"` + user + `"}`, 400, "form_param_value_invalid"},
		{"api key create padded name", sk, "POST", "/api_keys", `{"name":" abc","subject":"` + user + `"}`, 400, "form_param_value_invalid"},
		{"api key create no subject", sk, "POST", "/api_keys", `{"name":"abc"}`, 400, "form_param_missing"},
		{"api key create scim subject", sk, "POST", "/api_keys", `{"name":"abc","subject":"scim_2xhFjEI5X2qWRvtV13BzSj8H6Dk"}`, 400, "form_param_value_invalid"},
		{"api key create bad subject", sk, "POST", "/api_keys", `{"name":"abc","subject":"user_1"}`, 400, "form_param_value_invalid"},
		{"api key create short type", sk, "POST", "/api_keys", `{"name":"abc","subject":"` + user + `","type":"ak"}`, 400, "form_param_value_invalid"},
		{"api key create long description", sk, "POST", "/api_keys", `{"name":"abc","subject":"` + user + `","description":"` + long + `"}`, 400, "form_param_value_invalid"},
		{"api key create scopes string", sk, "POST", "/api_keys", `{"name":"abc","subject":"` + user + `","scopes":"read"}`, 400, "form_param_format_invalid"},
		{"api key create scopes null item", sk, "POST", "/api_keys", `{"name":"abc","subject":"` + user + `","scopes":["read",null]}`, 400, "form_param_format_invalid"},
		{"api key create scopes null", sk, "POST", "/api_keys", `{"name":"abc","subject":"` + user + `","scopes":null}`, 400, "form_param_format_invalid"},
		{"api key create bad created_by", sk, "POST", "/api_keys", `{"name":"abc","subject":"` + user + `","created_by":"` + org + `"}`, 400, "form_param_value_invalid"},
		{"api key create zero lifetime", sk, "POST", "/api_keys", `{"name":"abc","subject":"` + user + `","seconds_until_expiration":0}`, 400, "form_param_value_invalid"},
		{"api key create lifetime string", sk, "POST", "/api_keys", `{"name":"abc","subject":"` + user + `","seconds_until_expiration":"60"}`, 400, "form_param_format_invalid"},
		{"api key create unknown field", sk, "POST", "/api_keys", `{"name":"abc","subject":"` + user + `","secret":"ak_mine"}`, 400, "form_param_unknown"},
		{"api key create empty body", sk, "POST", "/api_keys", ``, 400, "request_body_invalid"},
		{"api key create huge body", sk, "POST", "/api_keys", huge, 413, "request_body_too_large"},
		{"api keys wrong method", sk, "DELETE", "/api_keys", "", 405, "method_not_allowed"},

		// GET /api_keys
		{"api key list", sk, "GET", "/api_keys?subject=" + org, "", 200, ""},
		{"api key list all params", sk, "GET", "/api_keys?subject=" + user + "&type=api_key&include_invalid=true&limit=2&offset=0&query=KEY", "", 200, ""},
		{"api key list limit 1.0", sk, "GET", "/api_keys?subject=" + org + "&limit=1.0", "", 200, ""},
		{"api key list scim subject", sk, "GET", "/api_keys?subject=scim_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "", 200, ""},
		{"api key list other type", sk, "GET", "/api_keys?subject=" + org + "&type=service_key", "", 200, ""},
		{"api key list machine key", ak, "GET", "/api_keys?subject=" + org, "", 401, "unauthorized"},
		{"api key list no subject", sk, "GET", "/api_keys", "", 400, "bad_request"},
		{"api key list bad subject", sk, "GET", "/api_keys?subject=ins_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "", 400, "bad_request"},
		{"api key list limit 0", sk, "GET", "/api_keys?subject=" + org + "&limit=0", "", 400, "bad_request"},
		{"api key list limit 101", sk, "GET", "/api_keys?subject=" + org + "&limit=101", "", 400, "bad_request"},
		{"api key list offset negative", sk, "GET", "/api_keys?subject=" + org + "&offset=-1", "", 400, "bad_request"},
		{"api key list bad include_invalid", sk, "GET", "/api_keys?subject=" + org + "&include_invalid=yes", "", 400, "bad_request"},
		{"api key list short type", sk, "GET", "/api_keys?subject=" + org + "&type=ak", "", 400, "bad_request"},

		// GET /api_keys/{id}, /secret; POST /api_keys/{id}/revoke
		{"api key get", sk, "GET", "/api_keys/" + apiLive.ID, "", 200, ""},
		{"api key get revoked", sk, "GET", "/api_keys/" + apiRevoked.ID, "", 200, ""},
		{"api key get unknown", sk, "GET", "/api_keys/ak_00000000000000000000000000000000", "", 404, "resource_not_found"},
		{"api key get legacy id form", sk, "GET", "/api_keys/api_key_00000000000000000000000000000000", "", 404, "resource_not_found"},
		{"api key get bad id", sk, "GET", "/api_keys/ak_xyz", "", 400, "bad_request"},
		{"api key get secret as id", sk, "GET", "/api_keys/" + apiLive.Secret, "", 400, "bad_request"},
		{"api key get machine key", ak, "GET", "/api_keys/" + apiLive.ID, "", 401, "unauthorized"},
		{"api key secret", sk, "GET", "/api_keys/" + apiLive.ID + "/secret", "", 200, ""},
		{"api key secret unknown", sk, "GET", "/api_keys/ak_00000000000000000000000000000000/secret", "", 404, "resource_not_found"},
		{"api key wrong method", sk, "PUT", "/api_keys/" + apiLive.ID, "", 405, "method_not_allowed"},
		{"api key revoke", sk, "POST", "/api_keys/" + apiToRevoke.ID + "/revoke", `{"revocation_reason":"rotated"}`, 200, ""},
		{"api key revoke again", sk, "POST", "/api_keys/" + apiToRevoke.ID + "/revoke", `{"revocation_reason":null}`, 200, ""},
		{"api key revoke empty object", sk, "POST", "/api_keys/" + apiRevoked.ID + "/revoke", `{}`, 200, ""},
		{"api key revoke unknown", sk, "POST", "/api_keys/ak_00000000000000000000000000000000/revoke", `{}`, 404, "resource_not_found"},
		{"api key revoke no body", sk, "POST", "/api_keys/" + apiLive.ID + "/revoke", ``, 400, "request_body_invalid"},
		{"api key revoke unknown field", sk, "POST", "/api_keys/" + apiLive.ID + "/revoke", `{"reason":"x"}`, 400, "form_param_unknown"},
		{"api key revoke reason number", sk, "POST", "/api_keys/" + apiLive.ID + "/revoke", `{"revocation_reason":1}`, 400, "form_param_format_invalid"},

		// POST /api_keys/verify
		{"api key verify", sk, "POST", "/api_keys/verify", body("secret", apiLive.Secret), 200, ""},
		{"api key verify revoked", sk, "POST", "/api_keys/verify", body("secret", apiRevoked.Secret), 404, "resource_not_found"},
		{"api key verify expired", sk, "POST", "/api_keys/verify", body("secret", apiExpiring.Secret), 404, "resource_not_found"},
		{"api key verify unknown", sk, "POST", "/api_keys/verify", body("secret", "ak_0123456789abcdefghijklmnopqrstuv"), 404, "resource_not_found"},
		{"api key verify its id", sk, "POST", "/api_keys/verify", body("secret", apiLive.ID), 404, "resource_not_found"},
		{"api key verify machine secret", sk, "POST", "/api_keys/verify", body("secret", ak), 404, "resource_not_found"},
		{"api key verify empty", sk, "POST", "/api_keys/verify", body("secret", ""), 404, "resource_not_found"},
		{"api key verify machine key", ak, "POST", "/api_keys/verify", body("secret", apiLive.Secret), 401, "unauthorized"},
		{"api key verify with itself", apiLive.Secret, "POST", "/api_keys/verify", body("secret", apiLive.Secret), 401, "machine_secret_key_invalid"},
		{"api key verify missing", sk, "POST", "/api_keys/verify", `{}`, 400, "form_param_missing"},
		{"api key verify null", sk, "POST", "/api_keys/verify", `{"secret":null}`, 400, "form_param_format_invalid"},
		{"api key verify as token", sk, "POST", "/api_keys/verify", body("token", apiLive.Secret), 400, "form_param_unknown"},
		{"api key verify no body", sk, "POST", "/api_keys/verify", ``, 400, "request_body_invalid"},
		{"api key verify wrong method", sk, "GET", "/api_keys/verify", "", 400, "bad_request"},

		// /oauth_applications
		{"oauth app create", sk, "POST", "/oauth_applications", `{"name":"full","redirect_uris":["https://a.example/cb","myapp://cb"],"scopes":"profile email public_metadata","consent_screen_enabled":false,"pkce_required":true,"public":false}`, 200, ""},
		{"oauth app create public", sk, "POST", "/oauth_applications", `{"name":"spa","callback_url":"https://spa.example/cb","public":true}`, 200, ""},
		{"oauth app create minimal", sk, "POST", "/oauth_applications", `{"name":"m"}`, 200, ""},
		{"oauth app create nulls", sk, "POST", "/oauth_applications", `{"name":"n","redirect_uris":null,"callback_url":null,"scopes":null,"consent_screen_enabled":null,"pkce_required":null,"public":null}`, 200, ""},
		{"oauth app create machine key", ak, "POST", "/oauth_applications", `{"name":"m"}`, 401, "unauthorized"},
		{"oauth app create no name", sk, "POST", "/oauth_applications", `{}`, 400, "form_param_missing"},
		{"oauth app create long name", sk, "POST", "/oauth_applications", `{"name":"` + strings.Repeat("n", 257) + `"}`, 400, "form_param_value_invalid"},
		{"oauth app create bad redirect_uris", sk, "POST", "/oauth_applications", `{"name":"n","redirect_uris":"x"}`, 400, "form_param_format_invalid"},
		{"oauth app create public string", sk, "POST", "/oauth_applications", `{"name":"n","public":"yes"}`, 400, "form_param_format_invalid"},
		{"oauth app create unknown field", sk, "POST", "/oauth_applications", `{"name":"n","client_id":"mine"}`, 400, "form_param_unknown"},
		{"oauth app list", sk, "GET", "/oauth_applications", "", 200, ""},
		{"oauth app list params", sk, "GET", "/oauth_applications?limit=2&offset=1&order_by=name", "", 200, ""},
		{"oauth app list by client_id", sk, "GET", "/oauth_applications?name_query=" + appB.ClientID, "", 200, ""},
		{"oauth app list machine key", ak, "GET", "/oauth_applications", "", 401, "unauthorized"},
		{"oauth app list limit 0", sk, "GET", "/oauth_applications?limit=0", "", 400, "bad_request"},
		{"oauth app list bad order", sk, "GET", "/oauth_applications?order_by=client_id", "", 400, "bad_request"},
		{"oauth apps wrong method", sk, "DELETE", "/oauth_applications", "", 405, "method_not_allowed"},

		// POST /oauth_applications/{id}/revoke_token
		{"oauth revoke", sk, "POST", "/oauth_applications/" + appA.ID + "/revoke_token", body("token", oatToRevoke), 204, ""},
		{"oauth revoke again", sk, "POST", "/oauth_applications/" + appA.ID + "/revoke_token", body("token", oatToRevoke), 204, ""},
		{"oauth revoke other app's token", sk, "POST", "/oauth_applications/" + appA.ID + "/revoke_token", body("token", oatOfB), 404, "resource_not_found"},
		{"oauth revoke unknown app", sk, "POST", "/oauth_applications/oa_000000000000000000000000000/revoke_token", body("token", oatLive), 404, "resource_not_found"},
		{"oauth revoke unknown token", sk, "POST", "/oauth_applications/" + appA.ID + "/revoke_token", body("token", "oat_unknown"), 404, "resource_not_found"},
		{"oauth revoke jwt", sk, "POST", "/oauth_applications/" + appA.ID + "/revoke_token", body("token", oauthJWT), 400, "form_param_value_invalid"},
		{"oauth revoke machine key", ak, "POST", "/oauth_applications/" + appA.ID + "/revoke_token", body("token", oatLive), 401, "unauthorized"},
		{"oauth revoke missing token", sk, "POST", "/oauth_applications/" + appA.ID + "/revoke_token", `{}`, 400, "form_param_missing"},
		{"oauth revoke no body", sk, "POST", "/oauth_applications/" + appA.ID + "/revoke_token", ``, 400, "request_body_invalid"},

		// POST /oauth_applications/access_tokens/verify
		{"oauth verify opaque", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", oatLive), 200, ""},
		{"oauth verify jwt", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", oauthJWT), 200, ""},
		{"oauth verify expired jwt", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", oauthJWTExpiring), 200, ""},
		{"oauth verify deprecated secret", sk, "POST", "/oauth_applications/access_tokens/verify", body("secret", oatLive), 200, ""},
		{"oauth verify revoked", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", oatRevoked), 404, "resource_not_found"},
		{"oauth verify revoked through app", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", oatToRevoke), 404, "resource_not_found"},
		{"oauth verify expired opaque", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", oatExpiring), 404, "resource_not_found"},
		{"oauth verify unknown", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", "oat_0123456789abcdefghijklmnopqrstuv"), 404, "resource_not_found"},
		{"oauth verify m2m jwt", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", jwtLive.Token), 404, "resource_not_found"},
		{"oauth verify m2m token", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", live.Token), 404, "resource_not_found"},
		{"oauth verify tampered jwt", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", oauthJWT[:len(oauthJWT)-4]+"AAAA"), 404, "resource_not_found"},
		{"oauth verify machine key", ak, "POST", "/oauth_applications/access_tokens/verify", body("access_token", oatLive), 401, "unauthorized"},
		{"oauth verify both", sk, "POST", "/oauth_applications/access_tokens/verify", `{"access_token":"` + oatLive + `","secret":"` + oatLive + `"}`, 400, "form_param_value_invalid"},
		{"oauth verify neither", sk, "POST", "/oauth_applications/access_tokens/verify", `{}`, 400, "form_param_missing"},
		{"oauth verify as token", sk, "POST", "/oauth_applications/access_tokens/verify", body("token", oatLive), 400, "form_param_unknown"},
		{"oauth verify number", sk, "POST", "/oauth_applications/access_tokens/verify", `{"access_token":1}`, 400, "form_param_format_invalid"},
		{"m2m verify oauth jwt", sk, "POST", "/m2m_tokens/verify", verify(oauthJWT), 404, "resource_not_found"},

		// POST /__emulator/oauth_access_tokens (the emulator's own)
		{"mint jwt", sk, "POST", "/__emulator/oauth_access_tokens", `{"user_id":"` + user + `","client_id":"` + appA.ClientID + `","scopes":["read"],"format":"jwt","seconds_until_expiration":60,"audience":["https://mcp.example"]}`, 200, ""},
		{"mint opaque", sk, "POST", "/__emulator/oauth_access_tokens", `{"user_id":"` + user + `","client_id":"` + appA.ClientID + `","format":"opaque"}`, 200, ""},
		{"mint unknown client", sk, "POST", "/__emulator/oauth_access_tokens", `{"user_id":"` + user + `","client_id":"nope"}`, 400, "form_param_value_invalid"},
		{"mint machine key", ak, "POST", "/__emulator/oauth_access_tokens", `{"user_id":"` + user + `","client_id":"` + appA.ClientID + `"}`, 401, "unauthorized"},

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
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" && c.Want != 204 {
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
			{fc.name + " api key verify", sk, "POST", "/api_keys/verify", body("secret", apiLive.Secret), fc.want, ""},
			{fc.name + " oauth verify", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", oatLive), fc.want, ""},
		} {
			srv.Inject(fc.fault())
			if resp, body := testkit.SendRaw(t, hc, srv.URL, testkit.RawCase(c)); resp.StatusCode != c.Want {
				t.Errorf("%s: got status %d, want %d (%s)", c.Name, resp.StatusCode, c.Want, body)
			}
		}
		srv.ClearFaults()
	}

	// @clerk/backend calls the API key and OAuth verify endpoints at the origin.
	origin := strings.TrimSuffix(srv.URL, "/v1")
	for _, c := range []rawCase{
		{"origin api key verify", sk, "POST", "/api_keys/verify", body("secret", apiLive.Secret), 200, ""},
		{"origin api key create", sk, "POST", "/api_keys", `{"name":"origin","subject":"` + user + `"}`, 200, ""},
		{"origin api key list", sk, "GET", "/api_keys?subject=" + user, "", 200, ""},
		{"origin api key get", sk, "GET", "/api_keys/" + apiLive.ID, "", 200, ""},
		{"origin api key secret", sk, "GET", "/api_keys/" + apiLive.ID + "/secret", "", 200, ""},
		{"origin api key revoke", sk, "POST", "/api_keys/" + apiRevoked.ID + "/revoke", `{}`, 200, ""},
		{"origin oauth verify", sk, "POST", "/oauth_applications/access_tokens/verify", body("access_token", oauthJWT), 200, ""},
		{"origin oauth apps", sk, "GET", "/oauth_applications", "", 404, "resource_not_found"},
		{"origin mint", sk, "POST", "/__emulator/oauth_access_tokens", `{}`, 404, "resource_not_found"},
	} {
		if resp, b := testkit.SendRaw(t, hc, origin, testkit.RawCase(c)); resp.StatusCode != c.Want {
			t.Errorf("%s: got status %d, want %d (%.300s)", c.Name, resp.StatusCode, c.Want, b)
		}
	}
	validateAll(t, rec.exchanges())
}

// mustAPIKey creates an API key on srv, or fails t.
func mustAPIKey(t *testing.T, srv *clerktest.Server, p clerktest.APIKeyParams) *clerkapi.APIKey {
	t.Helper()
	k, err := srv.CreateAPIKey(p)
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	return k
}
