package clerktest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
	"github.com/m2mauth/m2mauth/verifier"
)

const mcpResource = "https://mcp.example/mcp"

// TestOAuthAuthorizationCodeFlow runs the whole flow an MCP client runs,
// with net/http alone, for each access token format and kind of client:
// register → authorize (the Location read, not followed) → token → the
// token verifies at the verify endpoint and locally → refresh → revoke.
func TestOAuthAuthorizationCodeFlow(t *testing.T) {
	for _, format := range []clerkapi.TokenFormat{clerkapi.FormatJWT, clerkapi.FormatOpaque} {
		for _, kind := range []string{"public", "confidential with Basic", "confidential in the body"} {
			t.Run(string(format)+"/"+kind, func(t *testing.T) {
				clock := clerktest.NewClock(testkit.T0)
				srv := clerktest.NewServer(clerktest.WithClock(clock.Now), clerktest.WithOAuthAccessTokenFormat(format))
				defer srv.Close()
				var c *oauthClient
				switch kind {
				case "public":
					c = publicClient(t, srv)
				case "confidential with Basic":
					c = confidentialClient(t, srv)
				default:
					c = confidentialClient(t, srv)
					c.basic = false
				}
				if (c.secret == "") != (kind == "public") {
					t.Fatalf("registration %v: want a client_secret for a confidential client only", c.registration)
				}

				code, codeVerifier := c.code(t, url.Values{"scope": {"mcp read"}, "resource": {mcpResource}})
				tok := c.exchange(t, code, codeVerifier)
				access, _ := tok["access_token"].(string)
				refresh, _ := tok["refresh_token"].(string)
				if tok["token_type"] != "Bearer" || tok["expires_in"] != float64(86400) || tok["scope"] != "mcp read" || refresh == "" || len(tok) != 5 {
					t.Fatalf("token answer: got %v, want Bearer, 86400 s, scope \"mcp read\" and a refresh token", tok)
				}
				if isJWT := strings.Count(access, ".") == 2; isJWT != (format == clerkapi.FormatJWT) || (!isJWT && !strings.HasPrefix(access, "oat_")) {
					t.Fatalf("access token %.20q…: want the %s format", access, format)
				}

				// The verify endpoint takes it as it takes CreateOAuthAccessToken's.
				admin := testkit.NewClient(t, srv, srv.SecretKey)
				v, err := admin.VerifyOAuthAccessToken(t.Context(), access)
				if err != nil || v.Subject != clerktest.DefaultOAuthUserID || v.ClientID != c.id || !slices.Equal(v.Scopes, []string{"mcp", "read"}) ||
					!v.Expiration.Equal(testkit.T0.Add(24*time.Hour)) || v.Revoked || v.Expired {
					t.Fatalf("verify endpoint: got %+v, %v", v, err)
				}
				// So does the verifier: locally for a JWT (against the JWKS), at the endpoint for oat_….
				ver, err := verifier.New(srv.SecretKey, verifier.WithBaseURL(srv.URL), verifier.WithClock(clock.Now))
				if err != nil {
					t.Fatal(err)
				}
				defer ver.Close()
				srv.ResetCalls()
				vt, err := ver.Verify(t.Context(), access, "")
				if err != nil || vt.Kind != verifier.KindOAuth || vt.Subject != clerktest.DefaultOAuthUserID || vt.ClientID != c.id ||
					!vt.HasScopes("mcp", "read") || vt.Format != format {
					t.Fatalf("verifier: got %+v, %v", vt, err)
				}
				wantCalls := int64(1)
				if format == clerkapi.FormatJWT {
					wantCalls = 0
					if !slices.Equal(vt.Audience, []string{mcpResource}) {
						t.Errorf("JWT audience: got %q, want the resource %q", vt.Audience, mcpResource)
					}
				}
				if got := srv.Calls(clerktest.EndpointOAuthVerify); got != wantCalls {
					t.Errorf("verify endpoint calls for the verifier: got %d, want %d", got, wantCalls)
				}

				// Refresh: a new access token and a new refresh token.
				clock.Advance(time.Hour)
				a := c.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
				if a.status != 200 || a.header.Get("Cache-Control") != "no-store" {
					t.Fatalf("refresh: got %d %s (Cache-Control %q)", a.status, a.body, a.header.Get("Cache-Control"))
				}
				r2 := a.json(t)
				access2, _ := r2["access_token"].(string)
				refresh2, _ := r2["refresh_token"].(string)
				if access2 == "" || access2 == access || refresh2 == "" || refresh2 == refresh || r2["scope"] != "mcp read" {
					t.Fatalf("refresh: got %v, want new tokens with the scope granted", r2)
				}
				if v, err := admin.VerifyOAuthAccessToken(t.Context(), access2); err != nil || !v.Expiration.Equal(testkit.T0.Add(25*time.Hour)) {
					t.Fatalf("verify the refreshed token: got %+v, %v", v, err)
				}
				if format == clerkapi.FormatJWT {
					if aud := jwtClaim(t, access2, "aud"); aud != mcpResource {
						t.Errorf("refreshed JWT aud: got %v, want %q", aud, mcpResource)
					}
				}

				// Revoke the refresh token (RFC 7009): the grant ends. Its
				// opaque access tokens stop verifying; JWTs cannot be revoked.
				if a := c.post(t, "/oauth/token/revoke", url.Values{"token": {refresh2}, "token_type_hint": {"refresh_token"}}); a.status != 200 || len(a.body) != 0 {
					t.Fatalf("revoke: got %d %q, want 200 without a body", a.status, a.body)
				}
				if a := c.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh2}}); a.status != 400 || a.oauthError() != "invalid_grant" {
					t.Errorf("refresh after revoke: got %d %s, want 400 invalid_grant", a.status, a.body)
				}
				for _, tok := range []string{access, access2} {
					_, err := admin.VerifyOAuthAccessToken(t.Context(), tok)
					if format == clerkapi.FormatOpaque && statusOf(err) != 404 {
						t.Errorf("opaque access token of a revoked grant: got %v, want 404", err)
					}
					if format == clerkapi.FormatJWT && err != nil {
						t.Errorf("JWT of a revoked grant: got %v, want valid until it expires", err)
					}
				}
			})
		}
	}
}

// TestOAuthRevokeAccessToken revokes single access tokens, at the Frontend
// API and with the Backend API's revoke_token as before.
func TestOAuthRevokeAccessToken(t *testing.T) {
	srv := clerktest.NewServer(clerktest.WithOAuthAccessTokenFormat(clerkapi.FormatOpaque))
	defer srv.Close()
	c := confidentialClient(t, srv)
	other := publicClient(t, srv)
	admin := testkit.NewClient(t, srv, srv.SecretKey)
	tokenOf := func() (access, refresh string) {
		code, v := c.code(t, nil)
		tok := c.exchange(t, code, v)
		return tok["access_token"].(string), tok["refresh_token"].(string)
	}

	access, refresh := tokenOf()
	if a := other.post(t, "/oauth/token/revoke", url.Values{"token": {access}}); a.status != 400 || a.oauthError() != "invalid_grant" {
		t.Errorf("revoke another client's token: got %d %s, want 400 invalid_grant", a.status, a.body)
	}
	if a := c.post(t, "/oauth/token/revoke", url.Values{"token": {access}, "token_type_hint": {"access_token"}}); a.status != 200 {
		t.Fatalf("revoke: got %d %s", a.status, a.body)
	}
	if _, err := admin.VerifyOAuthAccessToken(t.Context(), access); statusOf(err) != 404 {
		t.Errorf("verify a revoked access token: got %v, want 404", err)
	}
	if a := c.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); a.status != 200 {
		t.Errorf("refresh after revoking one access token: got %d %s, want 200 (the grant lives on)", a.status, a.body)
	}
	for name, tok := range map[string]string{"unknown": "oat_unknown", "garbage": "x"} {
		if a := c.post(t, "/oauth/token/revoke", url.Values{"token": {tok}}); a.status != 200 {
			t.Errorf("revoke %s token: got %d %s, want 200 (RFC 7009 §2.2)", name, a.status, a.body)
		}
	}

	// The Backend API's revoke_token revokes an access token of the flow too.
	access, _ = tokenOf()
	if err := srv.RevokeOAuthAccessToken(access); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.VerifyOAuthAccessToken(t.Context(), access); statusOf(err) != 404 {
		t.Errorf("verify after RevokeOAuthAccessToken: got %v, want 404", err)
	}

	jwtSrv := clerktest.NewServer()
	defer jwtSrv.Close()
	jc := publicClient(t, jwtSrv)
	code, v := jc.code(t, nil)
	jwtTok := jc.exchange(t, code, v)["access_token"].(string)
	if a := jc.post(t, "/oauth/token/revoke", url.Values{"token": {jwtTok}}); a.status != 400 || a.oauthError() != "unsupported_token_type" {
		t.Errorf("revoke a JWT: got %d %s, want 400 unsupported_token_type", a.status, a.body)
	}
}

// TestOAuthTokenAttacks: what an attacker (or a buggy client) would try at
// the token endpoint, each a named case with its RFC 6749 §5.2 error.
func TestOAuthTokenAttacks(t *testing.T) {
	type env struct {
		clock        *clerktest.Clock
		srv          *clerktest.Server
		a, b         *oauthClient // a is public, b confidential (Basic)
		code, verify string       // a fresh code of a, for scope "mcp read" and mcpResource
	}
	for _, c := range []struct {
		name   string
		run    func(t *testing.T, e env) answer
		status int
		error  string
		after  func(t *testing.T, e env) // what else must hold
	}{
		{"wrong PKCE verifier", func(t *testing.T, e env) answer {
			wrong, _ := newPKCE()
			return e.a.token(t, codeForm(e.a, e.code, wrong))
		}, 400, "invalid_grant", nil},
		{"missing PKCE verifier", func(t *testing.T, e env) answer {
			f := codeForm(e.a, e.code, "")
			f.Del("code_verifier")
			return e.a.token(t, f)
		}, 400, "invalid_grant", nil},
		{"the challenge as verifier (a plain downgrade)", func(t *testing.T, e env) answer {
			sum := sha256.Sum256([]byte(e.verify))
			return e.a.token(t, codeForm(e.a, e.code, base64.RawURLEncoding.EncodeToString(sum[:])))
		}, 400, "invalid_grant", nil},
		{"another request's verifier", func(t *testing.T, e env) answer {
			_, other := e.a.code(t, nil)
			return e.a.token(t, codeForm(e.a, e.code, other))
		}, 400, "invalid_grant", nil},
		{"reused code revokes what it gave", func(t *testing.T, e env) answer {
			first := e.a.exchange(t, e.code, e.verify)
			a := e.a.token(t, codeForm(e.a, e.code, e.verify))
			// The refresh token the first exchange gave is revoked.
			if r := e.a.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}}); r.status != 400 || r.oauthError() != "invalid_grant" {
				t.Errorf("refresh token of a reused code: got %d %s, want 400 invalid_grant", r.status, r.body)
			}
			return a
		}, 400, "invalid_grant", nil},
		{"code of another client", func(t *testing.T, e env) answer {
			return e.b.token(t, codeForm(e.a, e.code, e.verify))
		}, 400, "invalid_grant", func(t *testing.T, e env) {
			e.a.exchange(t, e.code, e.verify) // still good for its own client
		}},
		{"another client's client_id with a public client's code", func(t *testing.T, e env) answer {
			f := codeForm(e.a, e.code, e.verify)
			f.Set("client_id", e.b.id) // b is confidential: no secret, no entry
			pub := *e.a
			return pub.token(t, f)
		}, 401, "invalid_client", nil},
		{"redirect URI not the authorized one", func(t *testing.T, e env) answer {
			f := codeForm(e.a, e.code, e.verify)
			f.Set("redirect_uri", "http://127.0.0.1:9999/other")
			return e.a.token(t, f)
		}, 400, "invalid_grant", nil},
		{"redirect URI missing", func(t *testing.T, e env) answer {
			f := codeForm(e.a, e.code, e.verify)
			f.Del("redirect_uri")
			return e.a.token(t, f)
		}, 400, "invalid_grant", nil},
		{"expired code on the injected clock", func(t *testing.T, e env) answer {
			e.clock.Advance(10 * time.Minute)
			return e.a.token(t, codeForm(e.a, e.code, e.verify))
		}, 400, "invalid_grant", nil},
		{"code just before it expires", func(t *testing.T, e env) answer {
			e.clock.Advance(10*time.Minute - time.Second)
			return e.a.token(t, codeForm(e.a, e.code, e.verify))
		}, 200, "", nil},
		{"unknown code", func(t *testing.T, e env) answer {
			return e.a.token(t, codeForm(e.a, "nope", e.verify))
		}, 400, "invalid_grant", nil},
		{"resource not authorized", func(t *testing.T, e env) answer {
			f := codeForm(e.a, e.code, e.verify)
			f.Set("resource", "https://evil.example/mcp")
			return e.a.token(t, f)
		}, 400, "invalid_target", nil},
		{"scope widening on refresh", func(t *testing.T, e env) answer {
			tok := e.a.exchange(t, e.code, e.verify)
			return e.a.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "scope": {"mcp read admin"}})
		}, 400, "invalid_scope", nil},
		{"scope narrowing on refresh", func(t *testing.T, e env) answer {
			tok := e.a.exchange(t, e.code, e.verify)
			a := e.a.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "scope": {"read"}})
			if got := a.json(t)["scope"]; got != "read" {
				t.Errorf("narrowed scope: got %v, want read", got)
			}
			// Without scope, the next refresh has the scope granted again.
			next := e.a.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.json(t)["refresh_token"].(string)}})
			if got := next.json(t)["scope"]; got != "mcp read" {
				t.Errorf("scope after a narrowed refresh: got %v, want the granted \"mcp read\"", got)
			}
			return next
		}, 200, "", nil},
		{"refresh token reuse after rotation", func(t *testing.T, e env) answer {
			tok := e.a.exchange(t, e.code, e.verify)
			old := tok["refresh_token"].(string)
			rotated := e.a.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}}).json(t)
			a := e.a.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}})
			// The replay revoked the grant: the rotated refresh token is dead too.
			if r := e.a.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rotated["refresh_token"].(string)}}); r.status != 400 || r.oauthError() != "invalid_grant" {
				t.Errorf("the current refresh token after a replay: got %d %s, want 400 invalid_grant", r.status, r.body)
			}
			return a
		}, 400, "invalid_grant", nil},
		{"refresh token of another client", func(t *testing.T, e env) answer {
			tok := e.a.exchange(t, e.code, e.verify)
			return e.b.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
		}, 400, "invalid_grant", nil},
		{"expired refresh token", func(t *testing.T, e env) answer {
			tok := e.a.exchange(t, e.code, e.verify)
			e.clock.Advance(10 * 365 * 24 * time.Hour)
			return e.a.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
		}, 400, "invalid_grant", nil},
		{"unknown client", func(t *testing.T, e env) answer {
			f := codeForm(e.a, e.code, e.verify)
			f.Set("client_id", "unknownclient123")
			return e.a.token(t, f)
		}, 401, "invalid_client", nil},
		{"unknown client with Basic", func(t *testing.T, e env) answer {
			impostor := *e.b
			impostor.id = "unknownclient123"
			return impostor.token(t, codeForm(e.a, e.code, e.verify))
		}, 401, "invalid_client", nil},
		{"wrong client secret", func(t *testing.T, e env) answer {
			impostor := *e.b
			impostor.secret = "wrong"
			return impostor.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
		}, 401, "invalid_client", nil},
		{"confidential client without its secret", func(t *testing.T, e env) answer {
			noSecret := *e.b
			noSecret.secret, noSecret.basic = "", false
			return noSecret.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
		}, 401, "invalid_client", nil},
		{"public client with a secret", func(t *testing.T, e env) answer {
			f := codeForm(e.a, e.code, e.verify)
			f.Set("client_secret", "made-up")
			return e.a.token(t, f)
		}, 401, "invalid_client", nil},
		{"Basic and client_secret at once", func(t *testing.T, e env) answer {
			return e.b.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_secret": {e.b.secret}})
		}, 400, "invalid_request", nil},
		{"client_credentials grant", func(t *testing.T, e env) answer {
			return e.b.token(t, url.Values{"grant_type": {"client_credentials"}})
		}, 400, "unsupported_grant_type", nil},
		{"no grant_type", func(t *testing.T, e env) answer {
			return e.b.token(t, url.Values{"code": {e.code}})
		}, 400, "invalid_request", nil},
		{"code sent twice", func(t *testing.T, e env) answer {
			f := codeForm(e.a, e.code, e.verify)
			f.Add("code", e.code)
			return e.a.token(t, f)
		}, 400, "invalid_request", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := clerktest.NewClock(testkit.T0)
			srv := clerktest.NewServer(clerktest.WithClock(clock.Now), clerktest.WithOAuthAccessTokenFormat(clerkapi.FormatOpaque))
			defer srv.Close()
			e := env{clock: clock, srv: srv, a: publicClient(t, srv), b: confidentialClient(t, srv)}
			e.code, e.verify = e.a.code(t, url.Values{"scope": {"mcp read"}, "resource": {mcpResource}})
			a := c.run(t, e)
			if a.status != c.status || a.oauthError() != c.error {
				t.Fatalf("got %d %s, want %d %s", a.status, a.body, c.status, c.error)
			}
			if a.header.Get("Cache-Control") != "no-store" || a.header.Get("Content-Type") != "application/json" {
				t.Errorf("got Cache-Control %q, Content-Type %q; want no-store, application/json", a.header.Get("Cache-Control"), a.header.Get("Content-Type"))
			}
			if c.status == 401 && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge: WWW-Authenticate %q", a.header.Get("WWW-Authenticate"))
			}
			if c.after != nil {
				c.after(t, e)
			}
		})
	}
}

// codeForm is the form that exchanges code with verifier at c's redirect URI.
func codeForm(c *oauthClient, code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.redirect}, "code_verifier": {verifier}}
}

// TestOAuthReusedCodeRevokesOpaqueTokens: the access token that a code gave
// stops verifying when the code is presented again (RFC 6749 §4.1.2).
func TestOAuthReusedCodeRevokesOpaqueTokens(t *testing.T) {
	srv := clerktest.NewServer(clerktest.WithOAuthAccessTokenFormat(clerkapi.FormatOpaque))
	defer srv.Close()
	c := publicClient(t, srv)
	code, v := c.code(t, nil)
	access := c.exchange(t, code, v)["access_token"].(string)
	admin := testkit.NewClient(t, srv, srv.SecretKey)
	if _, err := admin.VerifyOAuthAccessToken(t.Context(), access); err != nil {
		t.Fatal(err)
	}
	if a := c.token(t, codeForm(c, code, v)); a.status != 400 || a.oauthError() != "invalid_grant" {
		t.Fatalf("reuse: got %d %s", a.status, a.body)
	}
	if _, err := admin.VerifyOAuthAccessToken(t.Context(), access); statusOf(err) != 404 {
		t.Errorf("access token of a reused code: got %v, want 404 (revoked)", err)
	}
}

// TestOAuthCodeRace: clients racing to exchange one code get one set of
// tokens between them; the losers get invalid_grant (and revoke it).
func TestOAuthCodeRace(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	c := publicClient(t, srv)
	code, v := c.code(t, nil)
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i] = c.token(t, codeForm(c, code, v)).status })
	}
	wg.Wait()
	slices.Sort(statuses)
	if statuses[0] != 200 || statuses[1] != 400 || statuses[n-1] != 400 {
		t.Errorf("got statuses %v, want one 200 and %d 400", statuses, n-1)
	}
}

// TestOAuthAuthorizeErrors: the authorization endpoint redirects errors to
// a registered redirect URI only (RFC 6749 §4.1.2.1), with the state.
func TestOAuthAuthorizeErrors(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	c := publicClient(t, srv)
	two := registerClient(t, srv, `{"redirect_uris":["https://a.example/cb","https://b.example/cb"],"token_endpoint_auth_method":"none"}`)
	_, challenge := newPKCE()
	pkce := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"xyz-state"}}
	with := func(kv ...string) url.Values {
		v := cloneValues(pkce)
		for i := 0; i < len(kv); i += 2 {
			v[kv[i]] = strings.Split(kv[i+1], "\x00")
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		client *oauthClient
		params url.Values
		error  string // the redirected error, or the answered one when status is not 302
		status int
	}{
		{"redirect URI not registered", c, with("redirect_uri", "http://127.0.0.1:9999/evil"), "invalid_request", 400},
		{"redirect URI registered with another client", c, with("redirect_uri", "https://a.example/cb"), "invalid_request", 400},
		{"redirect URI sent twice", c, with("redirect_uri", c.redirect+"\x00"+c.redirect), "invalid_request", 400},
		{"redirect URI left out with two registered", two, with("redirect_uri", "-"), "invalid_request", 400},
		{"unknown client", c, with("client_id", "unknownclient123"), "invalid_client", 401},
		{"no client_id", c, with("client_id", "-"), "invalid_request", 400},
		{"PKCE plain", c, with("code_challenge_method", "plain"), "invalid_request", 302},
		{"PKCE method missing (plain)", c, with("code_challenge_method", "-"), "invalid_request", 302},
		{"no code_challenge", c, with("code_challenge", "-", "code_challenge_method", "-"), "invalid_request", 302},
		{"code_challenge not S256-shaped", c, with("code_challenge", "short"), "invalid_request", 302},
		{"response_type token", c, with("response_type", "token"), "unsupported_response_type", 302},
		{"no response_type", c, with("response_type", "-"), "invalid_request", 302},
		{"malformed scope", c, with("scope", `a"b`), "invalid_scope", 302},
		{"scope with two spaces", c, with("scope", "a  b"), "invalid_scope", 302},
		{"relative resource", c, with("resource", "/mcp"), "invalid_target", 302},
		{"resource with a fragment", c, with("resource", mcpResource+"#x"), "invalid_target", 302},
		{"state sent twice", c, with("state", "a\x00b"), "invalid_request", 302},
		{"response_mode form_post", c, with("response_mode", "form_post"), "invalid_request", 302},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.client.authorize(t, tc.params)
			if tc.status != 302 {
				if a.status != tc.status || a.header.Get("Location") != "" || a.oauthError() != tc.error {
					t.Fatalf("got %d %s (Location %q), want %d %s and no redirect", a.status, a.body, a.header.Get("Location"), tc.status, tc.error)
				}
				return
			}
			loc := location(t, a)
			q := loc.Query()
			if got := strings.SplitN(loc.String(), "?", 2)[0]; got != tc.client.redirect || q.Get("error") != tc.error || q.Get("error_description") == "" || q.Has("code") {
				t.Fatalf("got Location %s, want %s with error=%s and no code", loc, tc.client.redirect, tc.error)
			}
			if wantState := tc.params["state"]; len(wantState) == 1 && q.Get("state") != wantState[0] {
				t.Errorf("got state %q, want %q passed through", q.Get("state"), wantState[0])
			}
		})
	}
}

// TestOAuthAuthorizeState: state comes back exactly as sent, and not at all
// when none was sent; a redirect URI's own query is kept.
func TestOAuthAuthorizeState(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	c := registerClient(t, srv, `{"redirect_uris":["http://127.0.0.1:9999/cb?session=42"],"token_endpoint_auth_method":"none"}`)
	_, challenge := newPKCE()
	for _, tc := range []struct {
		name  string
		state []string // nil: none sent
	}{
		{"no state", nil},
		{"empty state", []string{""}},
		{"state with reserved characters", []string{"a b&c=d/é?#"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
			if tc.state != nil {
				p["state"] = tc.state
			}
			loc := location(t, c.authorize(t, p))
			q := loc.Query()
			if q.Get("session") != "42" || q.Get("code") == "" || !strings.HasPrefix(loc.String(), "http://127.0.0.1:9999/cb?session=42&") {
				t.Errorf("got Location %s, want the redirect URI with its query and a code", loc)
			}
			if got, has := q["state"]; has != (tc.state != nil) || (has && !slices.Equal(got, tc.state)) {
				t.Errorf("got state %q (present %v), want %q", got, has, tc.state)
			}
		})
	}
	// With one redirect URI registered, redirect_uri may be left out at
	// authorize; the token request still names it (as Clerk requires).
	code, v := c.code(t, url.Values{"redirect_uri": {"-"}})
	c.exchange(t, code, v)
}

// TestOAuthScopesAndAudience: the token carries the scopes asked (the
// client's registered ones without scope) and, for a JWT, the resources as
// aud.
func TestOAuthScopesAndAudience(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	c := registerClient(t, srv, `{"redirect_uris":["http://127.0.0.1:9999/cb"],"token_endpoint_auth_method":"none","scope":"profile email mcp"}`)
	for _, tc := range []struct {
		name      string
		params    url.Values
		wantScope string
		wantAud   any
	}{
		{"registered scope by default", nil, "profile email mcp", nil},
		{"scope asked, repeats dropped", url.Values{"scope": {"mcp tools:call mcp"}}, "mcp tools:call", nil},
		{"one resource", url.Values{"resource": {mcpResource}}, "profile email mcp", mcpResource},
		{"two resources", url.Values{"resource": {mcpResource, "https://b.example"}}, "profile email mcp", []any{mcpResource, "https://b.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, v := c.code(t, tc.params)
			tok := c.exchange(t, code, v)
			access := tok["access_token"].(string)
			if tok["scope"] != tc.wantScope || jwtClaim(t, access, "scope") != tc.wantScope {
				t.Errorf("got scope %v (claim %v), want %q", tok["scope"], jwtClaim(t, access, "scope"), tc.wantScope)
			}
			got, _ := json.Marshal(jwtClaim(t, access, "aud"))
			want, _ := json.Marshal(tc.wantAud)
			if string(got) != string(want) {
				t.Errorf("got aud %s, want %s", got, want)
			}
			if sub := jwtClaim(t, access, "sub"); sub != clerktest.DefaultOAuthUserID {
				t.Errorf("got sub %v, want %s", sub, clerktest.DefaultOAuthUserID)
			}
		})
	}
}

// TestOAuthUserOption: WithOAuthUser picks who consents.
func TestOAuthUserOption(t *testing.T) {
	srv := clerktest.NewServer(clerktest.WithOAuthUser(userID))
	defer srv.Close()
	c := publicClient(t, srv)
	code, v := c.code(t, nil)
	if sub := jwtClaim(t, c.exchange(t, code, v)["access_token"].(string), "sub"); sub != userID {
		t.Errorf("got sub %v, want %s", sub, userID)
	}
}

// TestOAuthBackendAPIApplicationFlow: an application made through the
// Backend API (confidential, its redirect URIs) runs the flow too, and a
// client that registered without refresh_token gets no refresh token.
func TestOAuthBackendAPIApplicationFlow(t *testing.T) {
	f := testkit.NewFixture(t)
	status, b := send(t, f.Srv.URL, f.Srv.SecretKey, "POST", "/oauth_applications", `{"name":"bapi","redirect_uris":["https://bapi.example/cb"]}`)
	app := decode[struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}](t, b)
	if status != 200 {
		t.Fatalf("create: %d %s", status, b)
	}
	c := &oauthClient{srv: f.Srv, id: app.ClientID, secret: app.ClientSecret, redirect: "https://bapi.example/cb", basic: true}
	code, v := c.code(t, nil)
	tok := c.exchange(t, code, v)
	if tok["scope"] != "profile email" || tok["refresh_token"] == nil {
		t.Errorf("got %v, want the application's scopes and a refresh token", tok)
	}

	noRefresh := registerClient(t, f.Srv, `{"redirect_uris":["http://127.0.0.1:9999/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code"]}`)
	code, v = noRefresh.code(t, nil)
	if tok := noRefresh.exchange(t, code, v); tok["refresh_token"] != nil {
		t.Errorf("got %v, want no refresh token for a client without the refresh_token grant", tok)
	}
}

// jwtClaim returns claim name of the JWT tok (unverified), or nil.
func jwtClaim(t *testing.T, tok, name string) any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%.20q… is not a JWT", tok)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims[name]
}
