package clerktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/internal/wire"
)

// defaultOAuthTokenTTL is an OAuth access token's lifetime when none is
// asked for, in seconds.
const defaultOAuthTokenTTL = 3600

// oauthJWTTypes are the "typ" header values of a JWT OAuth access token
// (RFC 9068): the emulator mints the first and accepts both, as
// @clerk/backend does.
var oauthJWTTypes = []string{"at+jwt", "application/at+jwt"}

// oauthToken is a stored opaque OAuth access token. JWT access tokens are
// never stored.
type oauthToken struct {
	id, value        string
	appID, clientID  string
	subject          string
	scopes           []string
	revoked          bool
	expiration       time.Time
	created, updated time.Time
}

func (t *oauthToken) isExpired(now time.Time) bool {
	return !t.expiration.IsZero() && !now.Before(t.expiration)
}

func (t *oauthToken) wire(now time.Time) *clerkapi.OAuthAccessToken {
	return &clerkapi.OAuthAccessToken{
		Object:     clerkapi.ObjectOAuthAccessToken,
		ID:         t.id,
		ClientID:   t.clientID,
		Subject:    t.subject,
		Scopes:     append([]string{}, t.scopes...),
		Revoked:    t.revoked,
		Expired:    t.isExpired(now),
		Expiration: clerkapi.At(t.expiration),
		CreatedAt:  clerkapi.At(t.created),
		UpdatedAt:  clerkapi.At(t.updated),
	}
}

// isScopeToken reports whether s is an RFC 6749 scope-token: one or more
// printable ASCII characters other than space, '"' and '\'. Scopes travel
// space-separated in the JWT's scope claim and in WWW-Authenticate.
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// mintParams are the decoded parameters of a POST /__emulator/oauth_access_tokens body.
type mintParams struct {
	userID, clientID, format *string
	scopes, audience         []string
	secs                     *float64
}

func (p *mintParams) fields() []field {
	tokens := func(name string, v *[]string) func() *apiError {
		return func() *apiError {
			for _, s := range *v {
				if !isScopeToken(s) {
					return errParamValue(name, name+" must be non-empty strings of printable ASCII without spaces, '\"' or '\\\\'.")
				}
			}
			return nil
		}
	}
	return []field{
		stringField("user_id", false, &p.userID).need().then(func() *apiError {
			if !userIDPattern.MatchString(*p.userID) {
				return errParamValue("user_id", "user_id must be a user ID (user_…).")
			}
			return nil
		}),
		stringField("client_id", false, &p.clientID).need(),
		stringsField("scopes", true, &p.scopes).then(tokens("scopes", &p.scopes)),
		stringField("format", false, &p.format).then(func() *apiError {
			switch clerkapi.TokenFormat(*p.format) {
			case clerkapi.FormatOpaque, clerkapi.FormatJWT:
				return nil
			}
			return errParamValue("format", "format must be one of: opaque, jwt.")
		}),
		numberField("seconds_until_expiration", true, false, &p.secs).then(func() *apiError {
			if p.secs != nil && (*p.secs <= 0 || *p.secs > maxTokenTTL) {
				return errParamValue("seconds_until_expiration",
					fmt.Sprintf("seconds_until_expiration must be greater than 0 and at most %d.", maxTokenTTL))
			}
			return nil
		}),
		stringsField("audience", true, &p.audience).then(tokens("audience", &p.audience)),
	}
}

// mintedToken is the answer of POST /__emulator/oauth_access_tokens.
type mintedToken struct {
	Token string `json:"token"`
	ID    string `json:"id"`
}

// mintOAuthToken issues an access token as Clerk's OAuth flows would: to the
// user p.userID for the application whose client_id is p.clientID.
func (s *Server) mintOAuthToken(p *mintParams) (*mintedToken, *apiError) {
	now := s.now()
	lifetime := time.Duration(defaultOAuthTokenTTL) * time.Second
	if p.secs != nil {
		lifetime = time.Duration(*p.secs * float64(time.Second))
	}
	format := clerkapi.FormatJWT
	if p.format != nil {
		format = clerkapi.TokenFormat(*p.format)
	}
	s.mu.Lock()
	app := s.st.oauthClients[*p.clientID]
	if app == nil {
		s.mu.Unlock()
		return nil, errParamValue("client_id", "client_id must be the client_id of an OAuth application of the instance.")
	}
	t := s.recordOAuthToken(app, *p.userID, p.scopes, format, now, lifetime)
	s.mu.Unlock()
	value, e := s.oauthTokenValue(t, p.audience)
	if e != nil {
		return nil, e
	}
	return &mintedToken{Token: value, ID: t.id}, nil
}

// recordOAuthToken makes an access token of app for subject with scopes,
// valid from now for lifetime. An opaque one gets its value and is stored;
// a JWT one is left for oauthTokenValue to sign (JWTs are never stored).
// The caller holds s.mu.
func (s *Server) recordOAuthToken(app *oauthApp, subject string, scopes []string, format clerkapi.TokenFormat,
	now time.Time, lifetime time.Duration) *oauthToken {
	t := &oauthToken{
		id: newOAuthTokenID(), appID: app.id, clientID: app.clientID, subject: subject, scopes: append([]string{}, scopes...),
		expiration: now.Add(lifetime), created: now, updated: now,
	}
	if format == clerkapi.FormatOpaque {
		t.value = newOAuthToken()
		s.st.oauthByValue[t.value] = t
	}
	return t
}

// oauthTokenValue returns what a client presents for t: its opaque value, or
// the JWT signed now with audience as aud. The caller does not hold s.mu.
func (s *Server) oauthTokenValue(t *oauthToken, audience []string) (string, *apiError) {
	if t.value != "" {
		return t.value, nil
	}
	return s.mintOAuthJWT(t, audience)
}

// mintOAuthJWT signs t as an RFC 9068 access token: header alg RS256, kid
// the instance ID, typ at+jwt; payload iss (the emulator's origin), sub,
// client_id, scope (space-separated; absent without scopes), jti (the
// token's ID), iat, nbf, exp and, when audience is given, aud (a string for
// one value, an array for more).
func (s *Server) mintOAuthJWT(t *oauthToken, audience []string) (string, *apiError) {
	payload := map[string]any{
		"iss":       s.issuer(),
		"sub":       t.subject,
		"client_id": t.clientID,
		"jti":       t.id,
		"iat":       t.created.Unix(),
		"nbf":       t.created.Unix(),
		"exp":       t.expiration.Unix(),
	}
	if len(t.scopes) > 0 {
		payload["scope"] = strings.Join(t.scopes, " ")
	}
	switch len(audience) {
	case 0:
	case 1:
		payload["aud"] = audience[0]
	default:
		payload["aud"] = audience
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return "", errInjected(http.StatusInternalServerError)
	}
	return s.signJWT(body, (&jose.SignerOptions{}).WithType(jose.ContentType(oauthJWTTypes[0])))
}

// verifyOAuthToken answers POST /oauth_applications/access_tokens/verify for
// value: an opaque token's object, or 404 when it is unknown, revoked or
// expired; a JWT's object read from its claims, {"active": false} when it
// has expired, or 404 when it is not a valid access token of the instance.
func (s *Server) verifyOAuthToken(value string) (*clerkapi.OAuthAccessToken, *apiError) {
	now := s.now()
	if strings.Count(value, ".") == 2 {
		return s.verifyOAuthJWT(value, now)
	}
	if !strings.HasPrefix(value, "oat_") {
		return nil, errOAuthTokenNotFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.oauthByValue[value]
	if t == nil || t.revoked || t.isExpired(now) {
		return nil, errOAuthTokenNotFound()
	}
	return t.wire(now), nil
}

// oauthClaims are the claims of a JWT access token beyond the registered ones.
type oauthClaims struct {
	ClientID string   `json:"client_id"`
	Scope    *string  `json:"scope"`
	Scp      []string `json:"scp"`
}

func (s *Server) verifyOAuthJWT(value string, now time.Time) (*clerkapi.OAuthAccessToken, *apiError) {
	tok, err := jwt.ParseSigned(value, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return nil, errOAuthTokenNotFound()
	}
	h := tok.Headers[0]
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if h.KeyID != s.instanceID || !slices.Contains(oauthJWTTypes, typ) {
		return nil, errOAuthTokenNotFound()
	}
	var std jwt.Claims
	var oc oauthClaims
	if err := tok.Claims(&s.signingKey().PublicKey, &std, &oc); err != nil {
		return nil, errOAuthTokenNotFound()
	}
	if !userIDPattern.MatchString(std.Subject) || !clerkapi.OAuthTokenIDPattern.MatchString(std.ID) ||
		std.Issuer != s.issuer() || oc.ClientID == "" || std.Expiry == nil {
		return nil, errOAuthTokenNotFound()
	}
	if std.NotBefore != nil && now.Add(wire.JWTLeeway).Before(std.NotBefore.Time()) {
		return nil, errOAuthTokenNotFound()
	}
	if !now.Before(std.Expiry.Time()) {
		return &clerkapi.OAuthAccessToken{Inactive: true}, nil
	}
	t := &oauthToken{id: std.ID, clientID: oc.ClientID, subject: std.Subject, scopes: oc.Scp,
		expiration: std.Expiry.Time(), created: now, updated: now}
	if oc.Scope != nil {
		t.scopes = strings.Fields(*oc.Scope)
	}
	if std.IssuedAt != nil {
		t.created, t.updated = std.IssuedAt.Time(), std.IssuedAt.Time()
	}
	return t.wire(now), nil
}

// revokeOAuthToken revokes the opaque token value of the application appID;
// revoking it again is no error. The caller holds s.mu.
func (s *Server) revokeOAuthToken(appID, value string, now time.Time) *apiError {
	if s.st.oauthApps[appID] == nil {
		return errNotFound("OAuth application")
	}
	if strings.Count(value, ".") == 2 {
		return errParamValue("token", "JWT access tokens cannot be revoked.")
	}
	t := s.st.oauthByValue[value]
	if t == nil || t.appID != appID {
		return errNotFound("OAuth token")
	}
	if !t.revoked {
		t.revoked = true
		t.updated = now
	}
	return nil
}

func (s *Server) handleVerifyOAuthToken(w http.ResponseWriter, r *http.Request, _ caller) {
	var token, secret *string
	if !readBody(w, r, true, stringField("access_token", false, &token), stringField("secret", false, &secret)) {
		return
	}
	value, e := verifyValue("access_token", token, secret)
	if e != nil {
		writeError(w, e)
		return
	}
	t, e := s.verifyOAuthToken(value)
	reply(w, http.StatusOK, t, e)
}

func (s *Server) handleRevokeOAuthToken(w http.ResponseWriter, r *http.Request, _ caller) {
	appID := r.PathValue("oauth_application_id")
	var token *string
	if !readBody(w, r, true, stringField("token", false, &token).need()) {
		return
	}
	now := s.now()
	s.mu.Lock()
	e := s.revokeOAuthToken(appID, *token, now)
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	w.Header().Del("Content-Type") // 204 has no body
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMintOAuthToken(w http.ResponseWriter, r *http.Request, _ caller) {
	var p mintParams
	if !readBody(w, r, true, p.fields()...) {
		return
	}
	t, e := s.mintOAuthToken(&p)
	reply(w, http.StatusOK, t, e)
}

// OAuthAccessTokenParams describes an OAuth access token for
// [Server.CreateOAuthAccessToken], as Clerk's authorization server would
// issue it at the end of an OAuth flow.
type OAuthAccessTokenParams struct {
	// UserID is required: the user (user_…) who authorized the application,
	// the token's subject. The emulator does not check that the user exists.
	UserID string
	// ClientID is required: the client_id of an OAuth application created
	// first (CreateOAuthApplication or POST /oauth_applications).
	ClientID string
	// Scopes are the granted scopes; each an RFC 6749 scope-token (printable
	// ASCII, no space, '"' or '\'). They are not checked against the
	// application's scopes.
	Scopes []string
	// Format is clerkapi.FormatJWT or clerkapi.FormatOpaque (oat_…); empty
	// means JWT, the default of Clerk's OAuth applications since 2026-01-08.
	Format clerkapi.TokenFormat
	// TTL is the token's lifetime; zero means one hour.
	TTL time.Duration
	// Audience, when set, becomes the aud claim of a JWT (RFC 8707 resource
	// indicators, e.g. an MCP server's URL): a string for one value, an array
	// for more. Opaque tokens keep no audience: Clerk's verify answer has none.
	Audience []string
}

// CreateOAuthAccessToken issues an OAuth access token as
// POST /__emulator/oauth_access_tokens would, without counting the call or
// applying faults, and returns its value: oat_… or a JWT. Invalid parameters
// give a *clerkapi.APIError with the status and errors the endpoint would
// answer.
func (s *Server) CreateOAuthAccessToken(p OAuthAccessTokenParams) (string, error) {
	body := map[string]any{"user_id": p.UserID, "client_id": p.ClientID}
	if p.Scopes != nil {
		body["scopes"] = p.Scopes
	}
	if p.Format != "" {
		body["format"] = p.Format
	}
	if p.Audience != nil {
		body["audience"] = p.Audience
	}
	switch {
	case p.TTL < 0:
		return "", errParamValue("seconds_until_expiration", "seconds_until_expiration must be greater than 0.").toClient()
	case p.TTL > 0:
		body["seconds_until_expiration"] = p.TTL.Seconds()
	}
	b, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("clerktest: encoding OAuth access token params: %w", err)
	}
	var mp mintParams
	e := parseObject(b, true, mp.fields()...)
	if e == nil {
		var t *mintedToken
		if t, e = s.mintOAuthToken(&mp); e == nil {
			return t.Token, nil
		}
	}
	return "", e.toClient()
}

// RevokeOAuthAccessToken revokes the opaque OAuth access token whose value
// is token, as POST /oauth_applications/{id}/revoke_token by its application
// would. An unknown token or a JWT (which cannot be revoked) is an error.
func (s *Server) RevokeOAuthAccessToken(token string) error {
	s.mu.Lock()
	var e *apiError
	if t := s.st.oauthByValue[token]; t != nil {
		e = s.revokeOAuthToken(t.appID, token, s.now())
	} else if strings.Count(token, ".") == 2 {
		e = errParamValue("token", "JWT access tokens cannot be revoked.")
	} else {
		e = errNotFound("OAuth token")
	}
	s.mu.Unlock()
	if e != nil {
		return errors.Join(errors.New("clerktest: revoke OAuth access token"), e.toClient())
	}
	return nil
}
