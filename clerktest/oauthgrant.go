package clerktest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Lifetimes of what POST /oauth/token issues, as Clerk documents them: an
// access token lives one day, a refresh token ten years.
const (
	oauthAccessTokenTTL  = 24 * time.Hour
	oauthRefreshTokenTTL = 10 * 365 * 24 * time.Hour
)

// oauthGrant is what one authorization code gave a client: the user, scopes
// and resources its refresh token renews, the current refresh token, and the
// opaque access tokens issued under it (which revoking the grant revokes).
type oauthGrant struct {
	app            *oauthApp
	subject        string
	scopes         []string // as originally granted: a refresh may narrow them, never widen
	resources      []string // likewise for RFC 8707 resources; nil: any
	refresh        string   // the current refresh token; "" when revoked or when the client may not refresh
	refreshExpires time.Time
	revoked        bool
	tokens         []*oauthToken
}

// revoke ends g: its refresh token and its opaque access tokens stop
// working. JWT access tokens cannot be revoked (at Clerk either): they stay
// valid until they expire. The caller holds s.mu.
func (g *oauthGrant) revoke(now time.Time) {
	g.revoked = true
	g.refresh = ""
	for _, t := range g.tokens {
		if !t.revoked {
			t.revoked = true
			t.updated = now
		}
	}
}

// tokenResponse is the 200 answer of POST /oauth/token (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// handleOAuthToken serves POST /oauth/token: the authorization_code and
// refresh_token grants, for a client authenticated by authenticateClient.
func (s *Server) handleOAuthToken(w http.ResponseWriter, r *http.Request, _ caller) {
	form, e := readForm(w, r, "resource")
	var app *oauthApp
	if e == nil {
		app, e = s.authenticateClient(r, form)
	}
	var resp *tokenResponse
	if e == nil {
		switch form.Get("grant_type") {
		case "":
			e = invalidRequest("grant_type is missing.")
		case grantAuthorizationCode:
			resp, e = s.exchangeCode(app, form)
		case grantRefreshToken:
			resp, e = s.refreshGrant(app, form)
		default:
			e = oauthErr(http.StatusBadRequest, "unsupported_grant_type",
				"grant_type must be authorization_code or refresh_token: Clerk offers no other grant.")
		}
	}
	if e != nil {
		writeOAuthError(w, e)
		return
	}
	writeOAuthJSON(w, http.StatusOK, resp)
}

// authenticateClient identifies the client of a token or revocation
// request. A confidential client authenticates with HTTP Basic (its
// form-urlencoded client_id and client_secret, RFC 6749 §2.3.1) or with
// client_id and client_secret in the body; Clerk takes either, whatever
// token_endpoint_auth_method the client registered. A public client sends its
// client_id in the body (or Basic with an empty password) and no secret.
// Every failure is a 401 invalid_client, but two methods at once, which is
// invalid_request.
func (s *Server) authenticateClient(r *http.Request, form url.Values) (*oauthApp, *oauthError) {
	var id, secret string
	basicID, basicSecret, basic := r.BasicAuth()
	switch {
	case basic:
		var err1, err2 error
		id, err1 = url.QueryUnescape(basicID)
		secret, err2 = url.QueryUnescape(basicSecret)
		switch {
		case err1 != nil || err2 != nil:
			return nil, invalidClient("The HTTP Basic credentials are not form-urlencoded (RFC 6749 §2.3.1).")
		case form.Has("client_secret"):
			return nil, invalidRequest("The client used two authentication methods: HTTP Basic and client_secret in the body.")
		case form.Has("client_id") && form.Get("client_id") != id:
			return nil, invalidClient("client_id in the body differs from the one of HTTP Basic.")
		}
	case r.Header.Get("Authorization") != "":
		return nil, invalidClient("The Authorization header must be HTTP Basic with the client_id and client_secret.")
	default:
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" {
		return nil, invalidClient("client_id is missing: send it in the body or with HTTP Basic.")
	}
	s.mu.Lock()
	app := s.st.oauthClients[id]
	s.mu.Unlock()
	switch {
	case app == nil:
		return nil, invalidClient("client_id is not the client_id of an OAuth application of the instance.")
	case app.secret == "" && secret != "":
		return nil, invalidClient("The client is public (token_endpoint_auth_method none): it has no client_secret.")
	case app.secret != "" && secret == "":
		return nil, invalidClient("The client is confidential: authenticate with its client_secret (HTTP Basic or in the body).")
	case app.secret != "" && !constantTimeEqual(secret, app.secret):
		return nil, invalidClient("The client_secret is wrong.")
	}
	return app, nil
}

// exchangeCode serves grant_type=authorization_code (RFC 6749 §4.1.3, RFC
// 7636 §4.6, RFC 8707 §2.2).
func (s *Server) exchangeCode(app *oauthApp, form url.Values) (*tokenResponse, *oauthError) {
	value, verifier := form.Get("code"), form.Get("code_verifier")
	if value == "" {
		return nil, invalidRequest("code is missing.")
	}
	resources, e := formResources(form)
	if e != nil {
		return nil, e
	}
	now := s.now()
	s.mu.Lock()
	c := s.st.oauthCodes[value]
	switch {
	case c == nil:
		e = invalidGrant("The authorization code is unknown.")
	case c.used:
		if c.grant != nil {
			c.grant.revoke(now)
		}
		e = invalidGrant("The authorization code was already used: the tokens issued with it are revoked (RFC 6749 §4.1.2).")
	case !now.Before(c.expires):
		e = invalidGrant("The authorization code has expired (it lives 10 minutes).")
	case c.app != app:
		e = invalidGrant("The authorization code was issued to another client.")
	case !form.Has("redirect_uri"):
		e = invalidGrant("redirect_uri is missing: send the one the authorization request used.")
	case form.Get("redirect_uri") != c.redirectURI:
		e = invalidGrant("redirect_uri differs from the one the authorization request used.")
	case verifier == "":
		e = invalidGrant("code_verifier is missing: the authorization request sent a code_challenge (PKCE).")
	case !isPKCEString(verifier) || !constantTimeEqual(pkceS256(verifier), c.challenge):
		e = invalidGrant("code_verifier does not match the code_challenge (PKCE S256).")
	case c.resources != nil && !isSubset(resources, c.resources):
		e = oauthErr(http.StatusBadRequest, "invalid_target", "resource must be one of those of the authorization request.")
	}
	if e != nil {
		s.mu.Unlock()
		return nil, e
	}
	c.used = true
	g := &oauthGrant{app: app, subject: c.subject, scopes: c.scopes, resources: c.resources}
	if g.resources == nil {
		g.resources = resources
	}
	c.grant = g
	audience := resources
	if audience == nil {
		audience = c.resources
	}
	t, refresh := s.issue(g, c.scopes, now)
	s.mu.Unlock()
	return s.tokenAnswer(t, refresh, audience)
}

// refreshGrant serves grant_type=refresh_token (RFC 6749 §6) with rotation:
// each use gives a new refresh token and retires the one used, whose replay
// then revokes the grant, as the OAuth security BCP (RFC 9700 §4.14.2)
// advises. scope and resource may narrow what was granted, never widen it;
// left out, they are what the authorization granted.
func (s *Server) refreshGrant(app *oauthApp, form url.Values) (*tokenResponse, *oauthError) {
	value := form.Get("refresh_token")
	if value == "" {
		return nil, invalidRequest("refresh_token is missing.")
	}
	var asked []string
	if sc := form.Get("scope"); sc != "" {
		var ok bool
		if asked, ok = parseScope(sc); !ok {
			return nil, oauthErr(http.StatusBadRequest, "invalid_scope", "scope must be space-separated scope-tokens (RFC 6749 §3.3).")
		}
	}
	resources, e := formResources(form)
	if e != nil {
		return nil, e
	}
	now := s.now()
	s.mu.Lock()
	g := s.st.oauthRefresh[value]
	switch {
	case g == nil:
		e = invalidGrant("The refresh token is unknown.")
	case g.app != app:
		e = invalidGrant("The refresh token was issued to another client.")
	case g.revoked:
		e = invalidGrant("The refresh token is revoked.")
	case g.refresh != value:
		g.revoke(now)
		e = invalidGrant("The refresh token was already used and replaced: a replay means it leaked, so the grant is revoked.")
	case !now.Before(g.refreshExpires):
		e = invalidGrant("The refresh token has expired.")
	case asked != nil && !isSubset(asked, g.scopes):
		e = oauthErr(http.StatusBadRequest, "invalid_scope", "scope may narrow the scope granted ("+strings.Join(g.scopes, " ")+"), not widen it.")
	case g.resources != nil && !isSubset(resources, g.resources):
		e = oauthErr(http.StatusBadRequest, "invalid_target", "resource must be one of those of the authorization request.")
	}
	if e != nil {
		s.mu.Unlock()
		return nil, e
	}
	scopes := g.scopes
	if asked != nil {
		scopes = asked
	}
	audience := resources
	if audience == nil {
		audience = g.resources
	}
	t, refresh := s.issue(g, scopes, now)
	s.mu.Unlock()
	return s.tokenAnswer(t, refresh, audience)
}

// issue records an access token of g with scopes, in the instance's format
// (WithOAuthAccessTokenFormat), and gives g a new refresh token when its
// client may refresh; it returns the token and that refresh token. The
// caller holds s.mu.
func (s *Server) issue(g *oauthGrant, scopes []string, now time.Time) (*oauthToken, string) {
	t := s.recordOAuthToken(g.app, g.subject, scopes, s.oauthFormat, now, oauthAccessTokenTTL)
	if t.value != "" {
		g.tokens = append(g.tokens, t)
	}
	if !g.app.mayRefresh() {
		return t, ""
	}
	g.refresh = newRefreshToken()
	g.refreshExpires = now.Add(oauthRefreshTokenTTL)
	s.st.oauthRefresh[g.refresh] = g
	return t, g.refresh
}

// tokenAnswer is the 200 answer for t (a JWT signed now, with audience as
// aud) and refresh. The caller does not hold s.mu.
func (s *Server) tokenAnswer(t *oauthToken, refresh string, audience []string) (*tokenResponse, *oauthError) {
	value, e := s.oauthTokenValue(t, audience)
	if e != nil {
		return nil, oauthErr(http.StatusInternalServerError, "server_error", "The access token could not be signed.")
	}
	return &tokenResponse{
		AccessToken: value, TokenType: "Bearer", ExpiresIn: int64(oauthAccessTokenTTL / time.Second),
		RefreshToken: refresh, Scope: strings.Join(t.scopes, " "),
	}, nil
}

// handleOAuthRevoke serves POST /oauth/token/revoke (RFC 7009) for an
// authenticated client: a refresh token revokes its grant (the refresh token
// and the opaque access tokens issued under it), an opaque access token
// itself. A JWT access token cannot be revoked: 400 unsupported_token_type,
// as Clerk answers. An unknown token answers 200 as RFC 7009 §2.2 says; a
// token of another client is refused with invalid_grant. Success is 200
// without a body. token_type_hint is accepted and not needed.
func (s *Server) handleOAuthRevoke(w http.ResponseWriter, r *http.Request, _ caller) {
	form, e := readForm(w, r)
	var app *oauthApp
	if e == nil {
		app, e = s.authenticateClient(r, form)
	}
	value := form.Get("token")
	switch {
	case e != nil:
	case value == "":
		e = invalidRequest("token is missing.")
	case strings.Count(value, ".") == 2:
		e = oauthErr(http.StatusBadRequest, "unsupported_token_type", "JWT access tokens cannot be revoked: they stay valid until they expire.")
	default:
		e = s.revokeByValue(app, value)
	}
	if e != nil {
		writeOAuthError(w, e)
		return
	}
	h := w.Header()
	h.Del("Content-Type")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// revokeByValue revokes the refresh token or opaque access token value of app.
func (s *Server) revokeByValue(app *oauthApp, value string) *oauthError {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.st.oauthRefresh[value]; g != nil {
		if g.app != app {
			return invalidGrant("The token was issued to another client.")
		}
		if g.refresh == value {
			g.revoke(now)
		}
		return nil
	}
	if t := s.st.oauthByValue[value]; t != nil {
		if t.appID != app.id {
			return invalidGrant("The token was issued to another client.")
		}
		if !t.revoked {
			t.revoked = true
			t.updated = now
		}
	}
	return nil
}
