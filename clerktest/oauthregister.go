package clerktest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
)

// registration is the 201 answer of POST /oauth/register (RFC 7591 §3.2.1),
// with the members Clerk's Frontend API spec lists
// (OAuth.DynamicClientRegistrationResponse).
type registration struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   int64    `json:"client_secret_expires_at"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	Scope                   string   `json:"scope"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

func invalidMetadata(description string) *oauthError {
	return oauthErr(http.StatusBadRequest, "invalid_client_metadata", description)
}

func invalidRedirectURI(description string) *oauthError {
	return oauthErr(http.StatusBadRequest, "invalid_redirect_uri", description)
}

func (s *Server) handleOAuthRegister(w http.ResponseWriter, r *http.Request, _ caller) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeOAuthError(w, oauthErr(http.StatusRequestEntityTooLarge, "invalid_client_metadata", "The request body exceeds the limit of 1048576 bytes."))
			return
		}
		writeOAuthError(w, invalidMetadata("The request body could not be read."))
		return
	}
	a, e := s.parseRegistration(data)
	if e != nil {
		writeOAuthError(w, e)
		return
	}
	s.storeOAuthApp(a)
	writeOAuthJSON(w, http.StatusCreated, registration{
		ClientID: a.clientID, ClientSecret: a.secret, ClientIDIssuedAt: a.created.Unix(),
		ClientName: a.name, ClientURI: a.clientURI, LogoURI: a.logoURI,
		RedirectURIs: a.redirectURIs, GrantTypes: a.grantTypes, ResponseTypes: []string{responseTypeCode},
		Scope: a.scopes, TokenEndpointAuthMethod: a.authMethod,
	})
}

// parseRegistration makes an OAuth application of the client metadata in
// data (RFC 7591 §2): a JSON object with redirect_uris and, optionally,
// token_endpoint_auth_method, grant_types, response_types, scope,
// client_name, client_uri and logo_uri. Other members are ignored, as RFC
// 7591 §2 asks; null is taken as absent.
func (s *Server) parseRegistration(data []byte) (*oauthApp, *oauthError) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, invalidMetadata("The request body must be a JSON object of client metadata (RFC 7591).")
	}
	var (
		redirectURIs, grantTypes, responseTypes []string
		method, scope, name, clientURI, logoURI string
	)
	for _, e := range []*oauthError{
		metaStrings(obj, "redirect_uris", &redirectURIs, invalidRedirectURI),
		metaStrings(obj, "grant_types", &grantTypes, invalidMetadata),
		metaStrings(obj, "response_types", &responseTypes, invalidMetadata),
		metaString(obj, "token_endpoint_auth_method", &method),
		metaString(obj, "scope", &scope),
		metaString(obj, "client_name", &name),
		metaString(obj, "client_uri", &clientURI),
		metaString(obj, "logo_uri", &logoURI),
	} {
		if e != nil {
			return nil, e
		}
	}

	if len(redirectURIs) == 0 {
		return nil, invalidRedirectURI("redirect_uris must hold at least one redirect URI.")
	}
	if len(redirectURIs) > maxRedirectURIs {
		return nil, invalidRedirectURI("redirect_uris may hold at most 100 redirect URIs.")
	}
	for _, u := range redirectURIs {
		if why := checkRedirectURI(u); why != "" {
			return nil, invalidRedirectURI("The redirect URI " + quoteShort(u) + " " + why + ".")
		}
	}

	switch method {
	case "":
		method = authMethodBasic // RFC 7591's default, as Clerk's
	case authMethodBasic, authMethodPost, authMethodNone:
	default:
		return nil, invalidMetadata("token_endpoint_auth_method must be one of client_secret_basic, client_secret_post, none.")
	}

	if _, sent := obj["grant_types"]; !sent || isNull(obj["grant_types"]) {
		grantTypes = []string{grantAuthorizationCode, grantRefreshToken}
	}
	for _, g := range grantTypes {
		if g != grantAuthorizationCode && g != grantRefreshToken {
			return nil, invalidMetadata("grant_types may hold authorization_code and refresh_token only (Clerk offers no other grant).")
		}
	}
	if !slices.Contains(grantTypes, grantAuthorizationCode) {
		return nil, invalidMetadata("grant_types must include authorization_code.")
	}
	if _, sent := obj["response_types"]; sent && !isNull(obj["response_types"]) {
		if len(responseTypes) == 0 {
			return nil, invalidMetadata("response_types must include code, which authorization_code needs.")
		}
		for _, rt := range responseTypes {
			if rt != responseTypeCode {
				return nil, invalidMetadata("response_types may hold code only.")
			}
		}
	}

	scopes := strings.Fields(defaultOAuthScopes)
	if scope != "" {
		var ok bool
		if scopes, ok = parseScope(scope); !ok {
			return nil, invalidMetadata("scope must be space-separated scope-tokens (RFC 6749 §3.3), at most 1024 bytes.")
		}
	}
	if len(name) > maxOAuthAppName {
		return nil, invalidMetadata("client_name must have at most 256 characters.")
	}
	for _, u := range []struct{ name, value string }{{"client_uri", clientURI}, {"logo_uri", logoURI}} {
		if u.value == "" {
			continue
		}
		if why := checkWebURI(u.value); why != "" || len(u.value) > 1024 {
			return nil, invalidMetadata(u.name + " must be an http or https URL of at most 1024 bytes.")
		}
	}

	now := s.now()
	a := &oauthApp{
		id: newOAuthAppID(), clientID: newOAuthClientID(), name: name, scopes: strings.Join(scopes, " "),
		redirectURIs: dedupe(redirectURIs), callbackURL: redirectURIs[0],
		consent: true, public: method == authMethodNone, created: now, updated: now,
		dynamic: true, clientURI: clientURI, logoURI: logoURI, authMethod: method, grantTypes: dedupe(grantTypes),
	}
	if a.name == "" {
		a.name = a.clientID // as Clerk names a client registered without client_name
	}
	if !a.public {
		a.secret = newOAuthClientSecret()
	}
	return a, nil
}

// metaString reads the string member name of obj into *dst; absent or null
// leaves it "".
func metaString(obj map[string]json.RawMessage, name string, dst *string) *oauthError {
	raw, ok := obj[name]
	if !ok || isNull(raw) {
		return nil
	}
	if json.Unmarshal(raw, dst) != nil {
		return invalidMetadata(name + " must be a string.")
	}
	return nil
}

// metaStrings reads the array-of-strings member name of obj into *dst;
// absent or null leaves it nil. A wrong type is refused with fail.
func metaStrings(obj map[string]json.RawMessage, name string, dst *[]string, fail func(string) *oauthError) *oauthError {
	raw, ok := obj[name]
	if !ok || isNull(raw) {
		return nil
	}
	var items []*string
	if json.Unmarshal(raw, &items) != nil || slices.Contains(items, nil) {
		return fail(name + " must be an array of strings.")
	}
	*dst = make([]string, len(items))
	for i, p := range items {
		(*dst)[i] = *p
	}
	return nil
}

// dedupe returns list without repeated elements, in first-seen order.
func dedupe(list []string) []string {
	var out []string
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// quoteShort quotes s for an error description, cut to 100 bytes.
func quoteShort(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return `"` + s + `"`
}
