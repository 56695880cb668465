package clerktest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// oauthCodeTTL is how long an authorization code may be exchanged: ten
// minutes on the emulator's clock, as Clerk documents (and as RFC 6749
// §4.1.2 recommends at most).
const oauthCodeTTL = 10 * time.Minute

// oauthCode is an authorization code that GET /oauth/authorize issued. It is
// kept once used, so that a second use is recognised (and the tokens the
// first one gave revoked).
type oauthCode struct {
	app         *oauthApp
	redirectURI string   // the one the authorization request used, given or implied
	scopes      []string // granted
	resources   []string // RFC 8707 resource indicators; nil: none
	challenge   string   // the S256 code_challenge
	subject     string   // the user who consented
	expires     time.Time
	used        bool
	grant       *oauthGrant // what its exchange issued; nil until then
}

// handleOAuthAuthorize serves GET /oauth/authorize: the authorization-code
// grant with PKCE S256, consent auto-granted for the emulator's OAuth user
// (WithOAuthUser). A request that names no valid client or redirect URI gets
// a 400 (401 for an unknown client) and is never redirected; any other error goes back to the redirect
// URI as RFC 6749 §4.1.2.1 says, with the state.
func (s *Server) handleOAuthAuthorize(w http.ResponseWriter, r *http.Request, _ caller) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeOAuthError(w, invalidRequest("The query string is malformed."))
		return
	}
	app, redirect, e := s.authorizeClient(q)
	if e != nil {
		writeOAuthError(w, e)
		return
	}
	back := url.Values{}
	if q.Has("state") {
		back.Set("state", q.Get("state")) // exactly as received (RFC 6749 §4.1.2), even empty
	}
	c, e := parseAuthorization(q, app)
	if e != nil {
		back.Set("error", e.code)
		back.Set("error_description", e.description)
		redirectTo(w, redirect, back)
		return
	}
	c.redirectURI = redirect
	c.subject = s.oauthUser
	c.expires = s.now().Add(oauthCodeTTL)
	code := newOAuthCode()
	s.mu.Lock()
	s.st.oauthCodes[code] = c
	s.mu.Unlock()
	back.Set("code", code)
	redirectTo(w, redirect, back)
}

// authorizeClient finds the client and the redirect URI of an authorization
// request: client_id must name an application, and redirect_uri be exactly
// one of its registered redirect URIs, or be left out when it has exactly
// one. Errors here are answered (400, or 401 for an unknown client), never
// redirected.
func (s *Server) authorizeClient(q url.Values) (*oauthApp, string, *oauthError) {
	if len(q["client_id"]) != 1 || q.Get("client_id") == "" {
		return nil, "", invalidRequest("client_id is missing or included more than once.")
	}
	s.mu.Lock()
	app := s.st.oauthClients[q.Get("client_id")]
	s.mu.Unlock()
	if app == nil { // 401, as Clerk's spec lists for "the provided client is invalid"
		return nil, "", invalidClient("client_id is not the client_id of an OAuth application of the instance.")
	}
	var redirect string
	switch len(q["redirect_uri"]) {
	case 0:
		if len(app.redirectURIs) != 1 {
			return nil, "", invalidRequest("redirect_uri is required: the client has not registered exactly one redirect URI.")
		}
		redirect = app.redirectURIs[0]
	case 1:
		redirect = q.Get("redirect_uri")
		if !slices.Contains(app.redirectURIs, redirect) {
			return nil, "", invalidRequest("redirect_uri is not one of the client's registered redirect URIs.")
		}
	default:
		return nil, "", invalidRequest("redirect_uri is included more than once.")
	}
	// An application made through the Backend API may hold any string as a
	// redirect URI: redirect only to one that could be registered.
	if why := checkRedirectURI(redirect); why != "" {
		return nil, "", invalidRequest("The registered redirect URI " + why + ".")
	}
	return app, redirect, nil
}

// parseAuthorization checks the parameters of an authorization request of
// app, other than client_id and redirect_uri, and returns its code, still
// without redirect URI, subject or expiry.
func parseAuthorization(q url.Values, app *oauthApp) (*oauthCode, *oauthError) {
	if e := noRepeats(q, "resource"); e != nil {
		return nil, e
	}
	switch {
	case q.Get("response_type") == "":
		return nil, invalidRequest("response_type is missing.")
	case q.Get("response_type") != responseTypeCode:
		return nil, oauthErr(http.StatusBadRequest, "unsupported_response_type", "response_type must be code.")
	case q.Has("response_mode") && q.Get("response_mode") != "query":
		return nil, invalidRequest("response_mode must be query: the emulator does not serve form_post.")
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "":
		return nil, invalidRequest("code_challenge is required: PKCE (RFC 7636) with S256 is required of every client.")
	case method != "S256":
		return nil, invalidRequest("code_challenge_method must be S256: plain, and a missing method (which means plain), are refused.")
	case len(challenge) != 43 || !isPKCEString(challenge):
		return nil, invalidRequest("code_challenge must be the unpadded base64url SHA-256 of the code_verifier (43 characters).")
	}
	scopes := strings.Fields(app.scopes)
	if sc := q.Get("scope"); sc != "" {
		var ok bool
		if scopes, ok = parseScope(sc); !ok {
			return nil, oauthErr(http.StatusBadRequest, "invalid_scope", "scope must be space-separated scope-tokens (RFC 6749 §3.3), at most 1024 bytes.")
		}
	}
	resources, e := formResources(q)
	if e != nil {
		return nil, e
	}
	return &oauthCode{app: app, scopes: scopes, resources: resources, challenge: challenge}, nil
}

// formResources reads the RFC 8707 resource parameters of vals: at most
// maxResources absolute URIs without fragment (invalid_target otherwise),
// repeated ones dropped; nil when there is none.
func formResources(vals url.Values) ([]string, *oauthError) {
	rs := vals["resource"]
	if len(rs) > maxResources {
		return nil, oauthErr(http.StatusBadRequest, "invalid_target", "At most 16 resource parameters are accepted.")
	}
	for _, r := range rs {
		if why := checkURI(r); why != "" {
			return nil, oauthErr(http.StatusBadRequest, "invalid_target", "The resource "+quoteShort(r)+" "+why+" (RFC 8707 §2).")
		}
	}
	return dedupe(rs), nil
}

// redirectTo answers 302 to redirect with params added to its query (a
// redirect URI's own query is kept, RFC 6749 §3.1.2), without a body.
func redirectTo(w http.ResponseWriter, redirect string, params url.Values) {
	sep := "?"
	switch {
	case strings.HasSuffix(redirect, "?") || strings.HasSuffix(redirect, "&"):
		sep = ""
	case strings.Contains(redirect, "?"):
		sep = "&"
	}
	h := w.Header()
	h.Del("Content-Type")
	h.Set("Location", redirect+sep+params.Encode())
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}
