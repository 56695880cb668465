package clerktest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// defaultOAuthScopes are the scopes of an OAuth application created without
// any (the spec's default).
const defaultOAuthScopes = "profile email"

// maxOAuthAppName bounds an OAuth application's name (the spec's "Max
// length: 256").
const maxOAuthAppName = 256

// oauthApp is a stored OAuth application.
type oauthApp struct {
	id, name         string
	clientID, secret string // secret is empty for a public client
	scopes           string
	redirectURIs     []string
	callbackURL      string
	consent, pkce    bool
	public           bool
	created, updated time.Time

	// Set by dynamic client registration (POST /oauth/register).
	dynamic            bool
	clientURI, logoURI string
	authMethod         string   // token_endpoint_auth_method; "" for an application made through the Backend API
	grantTypes         []string // nil: every grant the emulator serves
}

// mayRefresh reports whether a may use the refresh_token grant (and so gets
// refresh tokens).
func (a *oauthApp) mayRefresh() bool {
	return a.grantTypes == nil || slices.Contains(a.grantTypes, grantRefreshToken)
}

// Wire shapes of the /oauth_applications endpoints (the spec's
// OAuthApplication, OAuthApplicationWithSecret and OAuthApplications).
type (
	oauthAppJSON struct {
		Object                string   `json:"object"`
		ID                    string   `json:"id"`
		InstanceID            string   `json:"instance_id"`
		Name                  string   `json:"name"`
		ClientID              string   `json:"client_id"`
		ClientURI             *string  `json:"client_uri"`
		ClientImageURL        *string  `json:"client_image_url"`
		DynamicallyRegistered bool     `json:"dynamically_registered"`
		ConsentScreenEnabled  bool     `json:"consent_screen_enabled"`
		PKCERequired          bool     `json:"pkce_required"`
		Public                bool     `json:"public"`
		Scopes                string   `json:"scopes"`
		RedirectURIs          []string `json:"redirect_uris"`
		CallbackURL           string   `json:"callback_url"`
		AuthorizeURL          string   `json:"authorize_url"`
		TokenFetchURL         string   `json:"token_fetch_url"`
		UserInfoURL           string   `json:"user_info_url"`
		DiscoveryURL          string   `json:"discovery_url"`
		TokenIntrospectionURL string   `json:"token_introspection_url"`
		CreatedAt             int64    `json:"created_at"`
		UpdatedAt             int64    `json:"updated_at"`
	}
	oauthAppWithSecret struct {
		oauthAppJSON
		ClientSecret string `json:"client_secret"`
	}
	oauthAppList struct {
		Data       []oauthAppJSON `json:"data"`
		TotalCount int64          `json:"total_count"`
	}
)

// oauthAppJSON renders a; its URLs are the instance's Frontend API (the
// emulator's origin), where the emulator serves authorize_url and
// token_fetch_url (see fapi.go) and none of the others.
func (s *Server) oauthAppJSON(a *oauthApp) oauthAppJSON {
	fapi := s.issuer()
	var clientURI, logoURI *string
	if v := a.clientURI; v != "" {
		clientURI = &v
	}
	if v := a.logoURI; v != "" {
		logoURI = &v
	}
	return oauthAppJSON{
		Object: "oauth_application", ID: a.id, InstanceID: s.instanceID, Name: a.name, ClientID: a.clientID,
		ClientURI: clientURI, ClientImageURL: logoURI, DynamicallyRegistered: a.dynamic,
		ConsentScreenEnabled: a.consent, PKCERequired: a.pkce, Public: a.public, Scopes: a.scopes,
		RedirectURIs: append([]string{}, a.redirectURIs...), CallbackURL: a.callbackURL,
		AuthorizeURL:          fapi + "/oauth/authorize",
		TokenFetchURL:         fapi + "/oauth/token",
		UserInfoURL:           fapi + "/oauth/userinfo",
		DiscoveryURL:          fapi + "/.well-known/openid-configuration",
		TokenIntrospectionURL: fapi + "/oauth/token_info",
		CreatedAt:             a.created.UnixMilli(),
		UpdatedAt:             a.updated.UnixMilli(),
	}
}

// oauthAppParams are the decoded parameters of a POST /oauth_applications body.
type oauthAppParams struct {
	name, callbackURL, scopes *string
	redirectURIs              []string
	consent, pkce, public     *bool
}

func (p *oauthAppParams) fields() []field {
	return []field{
		stringField("name", false, &p.name).need().then(func() *apiError {
			if n := len(*p.name); n < 1 || n > maxOAuthAppName {
				return errParamValue("name", "name must have 1 to 256 characters.")
			}
			return nil
		}),
		stringsField("redirect_uris", true, &p.redirectURIs),
		stringField("callback_url", true, &p.callbackURL).then(func() *apiError {
			if p.callbackURL != nil && len(*p.callbackURL) > 1024 {
				return errParamValue("callback_url", "callback_url must have at most 1024 characters.")
			}
			return nil
		}),
		stringField("scopes", true, &p.scopes).then(func() *apiError {
			if p.scopes != nil && len(*p.scopes) > 1024 {
				return errParamValue("scopes", "scopes must have at most 1024 characters.")
			}
			return nil
		}),
		boolField("consent_screen_enabled", true, &p.consent),
		boolField("pkce_required", true, &p.pkce),
		boolField("public", true, &p.public),
	}
}

// createOAuthApp stores a new OAuth application made from p.
func (s *Server) createOAuthApp(p *oauthAppParams) oauthAppWithSecret {
	now := s.now()
	a := &oauthApp{
		id: newOAuthAppID(), name: *p.name, clientID: newOAuthClientID(), scopes: defaultOAuthScopes,
		redirectURIs: append([]string{}, p.redirectURIs...),
		consent:      true, created: now, updated: now,
	}
	if p.scopes != nil {
		a.scopes = *p.scopes
	}
	if p.consent != nil {
		a.consent = *p.consent
	}
	if p.pkce != nil {
		a.pkce = *p.pkce
	}
	if p.public != nil {
		a.public = *p.public
	}
	if !a.public {
		a.secret = newOAuthClientSecret()
	}
	switch {
	case p.callbackURL != nil:
		a.callbackURL = *p.callbackURL
		if p.redirectURIs == nil && a.callbackURL != "" {
			a.redirectURIs = []string{a.callbackURL}
		}
	case len(a.redirectURIs) > 0:
		a.callbackURL = a.redirectURIs[0]
	}
	s.storeOAuthApp(a)
	return oauthAppWithSecret{oauthAppJSON: s.oauthAppJSON(a), ClientSecret: a.secret}
}

// storeOAuthApp adds a to the applications, whether the Backend API or
// dynamic client registration made it.
func (s *Server) storeOAuthApp(a *oauthApp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.oauthApps[a.id] = a
	s.st.oauthClients[a.clientID] = a
	s.st.oauthAppList = append(s.st.oauthAppList, a)
}

func (s *Server) handleCreateOAuthApp(w http.ResponseWriter, r *http.Request, _ caller) {
	var p oauthAppParams
	if !readBody(w, r, true, p.fields()...) {
		return
	}
	writeJSON(w, http.StatusOK, s.createOAuthApp(&p))
}

func (s *Server) handleListOAuthApps(w http.ResponseWriter, r *http.Request, _ caller) {
	vals, e := parseQuery(r.URL.RawQuery)
	var p listParams
	if e == nil {
		p, e = parseListParams(vals)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	query := vals.Get("name_query")
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		var apps []*oauthApp // creation order
		for _, a := range s.st.oauthAppList {
			if query == "" || a.clientID == query || strings.Contains(strings.ToLower(a.name), strings.ToLower(query)) {
				apps = append(apps, a)
			}
		}
		out := oauthAppList{Data: []oauthAppJSON{}, TotalCount: int64(len(apps))}
		for _, a := range page(apps, p, func(a *oauthApp) time.Time { return a.created }, func(a *oauthApp) string { return a.name }) {
			out.Data = append(out.Data, s.oauthAppJSON(a))
		}
		return out, nil
	})
}

// OAuthApplication is a snapshot of an emulated OAuth application, the client
// that OAuth access tokens are issued to.
type OAuthApplication struct {
	ID   string // oa_ + 27 base62 characters
	Name string
	// ClientID is the application's client_id (16 base62 characters): what
	// OAuthAccessTokenParams.ClientID names and what its tokens carry.
	ClientID string
	// ClientSecret is the confidential client's secret.
	ClientSecret string
}

// CreateOAuthApplication adds a confidential OAuth application called name
// with the default scopes ("profile email"), as POST /oauth_applications
// {"name": name} would. It is set-up for tests and panics if name is empty or
// longer than 256 bytes.
func (s *Server) CreateOAuthApplication(name string) *OAuthApplication {
	if name == "" || len(name) > maxOAuthAppName {
		panic("clerktest: CreateOAuthApplication: name must have 1 to 256 bytes")
	}
	a := s.createOAuthApp(&oauthAppParams{name: &name})
	return &OAuthApplication{ID: a.ID, Name: a.Name, ClientID: a.ClientID, ClientSecret: a.ClientSecret}
}
