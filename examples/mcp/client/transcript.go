package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// transcript is an http.RoundTripper that prints each exchange: the request
// line (and the JSON-RPC method of an MCP request), its form or JSON body,
// the status, the WWW-Authenticate and Location headers and a JSON answer
// (the metadata documents, the registration, the token), with every secret
// elided. An event stream is not read. It remembers the first 404, for
// explain.
type transcript struct {
	w    io.Writer
	next http.RoundTripper

	mu       sync.Mutex
	notFound string // "GET <url>" of the first 404
}

// elided stands for a secret's value.
const elided = "…elided…"

// secretFields are the names, in JSON bodies, forms and query strings, of
// values never printed.
var secretFields = map[string]bool{
	"access_token": true, "refresh_token": true, "id_token": true, "client_secret": true,
	"registration_access_token": true, "code": true, "code_verifier": true, "client_assertion": true,
}

// maxBody bounds what is read of a body to print it.
const maxBody = 1 << 20

func (t *transcript) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			reqBody, _ = io.ReadAll(io.LimitReader(b, maxBody))
			b.Close()
		}
	}
	res, err := t.next.RoundTrip(req)

	t.mu.Lock()
	defer t.mu.Unlock()
	var out strings.Builder
	fmt.Fprintf(&out, "→ %s %s", req.Method, elideURL(req.URL))
	if m := rpcMethod(reqBody); m != "" {
		fmt.Fprintf(&out, "  (%s)", m)
	}
	out.WriteByte('\n')
	if a := req.Header.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		fmt.Fprintf(&out, "    Authorization: %s %s\n", scheme, elided)
	}
	if len(reqBody) > 0 && rpcMethod(reqBody) == "" {
		out.WriteString(indent(elideBody(req.Header.Get("Content-Type"), reqBody)))
	}
	if err != nil {
		fmt.Fprintf(&out, "← %v\n", err)
		io.WriteString(t.w, out.String())
		return nil, err
	}
	fmt.Fprintf(&out, "← %s\n", res.Status)
	if res.StatusCode == http.StatusNotFound && t.notFound == "" {
		t.notFound = req.Method + " " + elideURL(req.URL)
	}
	for _, h := range []string{"WWW-Authenticate", "Location"} {
		for _, v := range res.Header.Values(h) {
			if h == "Location" {
				if u, err := url.Parse(v); err == nil {
					v = elideURL(u)
				}
			}
			fmt.Fprintf(&out, "    %s: %s\n", h, v)
		}
	}
	if isJSON(res.Header.Get("Content-Type")) && res.Body != nil && (!isRPC(reqBody) || res.StatusCode >= 400) {
		b, rerr := io.ReadAll(io.LimitReader(res.Body, maxBody))
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(b))
		if rerr == nil && len(b) > 0 {
			out.WriteString(indent(elideBody("application/json", b)))
			out.WriteString(claimsOf(b))
		}
	}
	io.WriteString(t.w, out.String())
	return res, nil
}

// explain names the missing endpoint when the discovery stopped at a 404:
// the server, or the authorization server, does not serve a step of the
// flow.
func (t *transcript) explain(err error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.notFound == "" {
		return err
	}
	return &missingEndpointError{endpoint: t.notFound, err: err}
}

// A missingEndpointError says that the discovery met a 404.
type missingEndpointError struct {
	endpoint string // "GET http://…/.well-known/oauth-authorization-server"
	err      error
}

func (e *missingEndpointError) Error() string {
	return "the discovery met a 404 at " + e.endpoint + " (an endpoint of the flow is not served there): " + e.err.Error()
}
func (e *missingEndpointError) Unwrap() error { return e.err }

// rpcMethod is the JSON-RPC method of an MCP request body (with the tool's
// name for tools/call), "" for any other body.
func rpcMethod(body []byte) string {
	var m struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	if json.Unmarshal(body, &m) != nil || m.JSONRPC == "" {
		return ""
	}
	if m.Params.Name != "" {
		return m.Method + " " + m.Params.Name
	}
	return m.Method
}

func isRPC(body []byte) bool { return rpcMethod(body) != "" }

func isJSON(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/json"
}

// elideURL is u with its secret query values elided.
func elideURL(u *url.URL) string {
	q := u.Query()
	if len(q) == 0 {
		return u.String()
	}
	for k := range q {
		if secretFields[k] {
			q.Set(k, elided)
		}
	}
	c := *u
	c.RawQuery = strings.ReplaceAll(q.Encode(), url.QueryEscape(elided), elided)
	return c.String()
}

// elideBody is a form or JSON body, secrets elided; JSON indented.
func elideBody(contentType string, b []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(b))
		if err != nil {
			return "(a form that does not parse)"
		}
		for k := range q {
			if secretFields[k] {
				q.Set(k, elided)
			}
		}
		return strings.ReplaceAll(q.Encode(), url.QueryEscape(elided), elided)
	case "application/json":
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			return "(JSON that is not an object)"
		}
		for k := range v {
			if secretFields[k] {
				v[k] = elided
			}
		}
		out, _ := json.MarshalIndent(v, "", "  ")
		return string(out)
	}
	return fmt.Sprintf("(%d bytes of %s)", len(b), contentType)
}

// claimsOf shows the claims of a token answer's JWT access token (not the
// token: its signature is what makes it a credential), "" otherwise.
func claimsOf(body []byte) string {
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	parts := strings.Split(v.AccessToken, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	out, _ := json.MarshalIndent(claims, "", "  ")
	return indent("the access token is a JWT; its claims:\n" + string(out))
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") + "\n"
}
