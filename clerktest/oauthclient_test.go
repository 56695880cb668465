package clerktest_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/clerktest"
)

// A client of the emulator's OAuth authorization server, with net/http
// alone, as an MCP client would speak to Clerk's Frontend API.

// noRedirects is an HTTP client that never follows a redirect: the tests
// read the Location of GET /oauth/authorize themselves.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// origin is the emulator's origin, where the Frontend API is served.
func origin(srv *clerktest.Server) string { return strings.TrimSuffix(srv.URL, "/v1") }

// answer is an HTTP answer read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the answer's body as a JSON object, or fails t.
func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("body %.300q (status %d) is not a JSON object: %v", a.body, a.status, err)
	}
	return m
}

// oauthError returns the "error" of an RFC 6749 §5.2 body, or "".
func (a answer) oauthError() string {
	var m struct{ Error string }
	json.Unmarshal(a.body, &m)
	return m.Error
}

// do sends req with noRedirects and reads the answer.
func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func get(t *testing.T, u string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func postJSON(t *testing.T, u, body string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

// newPKCE returns a fresh code_verifier and its S256 code_challenge.
func newPKCE() (verifier, challenge string) {
	verifier = rand.Text() + rand.Text() // 52 base32 characters
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// oauthClient is a registered client of the emulator.
type oauthClient struct {
	srv          *clerktest.Server
	id, secret   string
	redirect     string
	basic        bool // authenticate with HTTP Basic rather than in the body
	registration map[string]any
}

// registerClient registers a client with the JSON metadata body (RFC 7591)
// and fails t unless the emulator answers 201.
func registerClient(t *testing.T, srv *clerktest.Server, body string) *oauthClient {
	t.Helper()
	a := postJSON(t, origin(srv)+"/oauth/register", body)
	if a.status != http.StatusCreated {
		t.Fatalf("register %s: got %d %s, want 201", body, a.status, a.body)
	}
	m := a.json(t)
	c := &oauthClient{srv: srv, registration: m}
	c.id, _ = m["client_id"].(string)
	c.secret, _ = m["client_secret"].(string)
	uris, _ := m["redirect_uris"].([]any)
	if len(uris) > 0 {
		c.redirect, _ = uris[0].(string)
	}
	return c
}

// publicClient and confidentialClient register the two usual kinds.
func publicClient(t *testing.T, srv *clerktest.Server) *oauthClient {
	t.Helper()
	return registerClient(t, srv, `{"client_name":"agent","redirect_uris":["http://127.0.0.1:9999/callback"],"token_endpoint_auth_method":"none"}`)
}

func confidentialClient(t *testing.T, srv *clerktest.Server) *oauthClient {
	t.Helper()
	c := registerClient(t, srv, `{"client_name":"server app","redirect_uris":["https://app.example/oauth/callback"]}`)
	c.basic = true
	return c
}

// authorize sends GET /oauth/authorize with params (client_id and
// redirect_uri are added unless params sets them, "-" leaving them out).
func (c *oauthClient) authorize(t *testing.T, params url.Values) answer {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {c.redirect}}
	for k, v := range params {
		q[k] = v
	}
	for k, v := range q {
		if len(v) == 1 && v[0] == "-" {
			delete(q, k)
		}
	}
	return get(t, origin(c.srv)+"/oauth/authorize?"+q.Encode())
}

// code runs an authorization request with PKCE S256 and extra params and
// returns the code and the verifier, or fails t.
func (c *oauthClient) code(t *testing.T, extra url.Values) (code, verifier string) {
	t.Helper()
	verifier, challenge := newPKCE()
	params := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"st-" + rand.Text()}}
	for k, v := range extra {
		params[k] = v
	}
	a := c.authorize(t, params)
	loc := location(t, a)
	if loc.Query().Get("error") != "" || loc.Query().Get("code") == "" || loc.Query().Get("state") != params.Get("state") {
		t.Fatalf("authorize: got Location %s, want a code and the state", loc)
	}
	return loc.Query().Get("code"), verifier
}

// location checks that a is a 302 without a body and returns its Location.
func location(t *testing.T, a answer) *url.URL {
	t.Helper()
	if a.status != http.StatusFound || len(a.body) != 0 {
		t.Fatalf("got %d %q, want a 302 without a body", a.status, a.body)
	}
	u, err := url.Parse(a.header.Get("Location"))
	if err != nil {
		t.Fatalf("Location %q: %v", a.header.Get("Location"), err)
	}
	return u
}

// token posts form to /oauth/token (or another path of the origin),
// authenticated as c.
func (c *oauthClient) token(t *testing.T, form url.Values) answer {
	t.Helper()
	return c.post(t, "/oauth/token", form)
}

func (c *oauthClient) post(t *testing.T, path string, form url.Values) answer {
	t.Helper()
	form = cloneValues(form)
	req, err := http.NewRequest(http.MethodPost, origin(c.srv)+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case c.basic:
		req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	default:
		if !form.Has("client_id") {
			form.Set("client_id", c.id)
		}
		if c.secret != "" && !form.Has("client_secret") {
			form.Set("client_secret", c.secret)
		}
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

// exchange trades code for tokens and fails t unless the answer is 200.
func (c *oauthClient) exchange(t *testing.T, code, verifier string) map[string]any {
	t.Helper()
	a := c.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.redirect}, "code_verifier": {verifier}})
	if a.status != http.StatusOK {
		t.Fatalf("exchange: got %d %s, want 200", a.status, a.body)
	}
	return a.json(t)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
