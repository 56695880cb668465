package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// subsetSpec is the part of Clerk's spec the emulator implements, carried in
// the repository; fullSpec is Clerk's whole spec, present only beside the
// project's source (not in a user's clone).
const (
	subsetSpec = "testdata/clerk-m2m-openapi.yml"
	fullSpec   = "../../../shared/reference/clerk-bapi-2026-05-12.yml"
)

var specs sync.Map // path → *specDoc

type specDoc struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

// loadSpec loads an OpenAPI document once per test binary.
func loadSpec(t testing.TB, path string) *openapi3.T {
	t.Helper()
	v, _ := specs.LoadOrStore(path, &specDoc{})
	d := v.(*specDoc)
	d.once.Do(func() {
		l := openapi3.NewLoader()
		d.doc, d.err = l.LoadFromFile(path)
	})
	if d.err != nil {
		t.Fatalf("loading %s: %v", path, d.err)
	}
	return d.doc
}

// specs returns the documents to validate against: always the subset, and the
// full spec when it exists (otherwise the caller is told why not).
func specDocs(t *testing.T) map[string]*openapi3.T {
	docs := map[string]*openapi3.T{"subset": loadSpec(t, subsetSpec)}
	if _, err := os.Stat(fullSpec); err == nil {
		docs["full"] = loadSpec(t, fullSpec)
	}
	return docs
}

// exchange is one recorded request and its answer.
type exchange struct {
	req     *http.Request
	reqBody []byte // the request body as sent
	status  int
	header  http.Header
	body    []byte
}

func (e exchange) String() string {
	return fmt.Sprintf("%s %s → %d", e.req.Method, e.req.URL.Path, e.status)
}

// recorder is an http.RoundTripper that keeps every exchange for later
// validation.
type recorder struct {
	mu  sync.Mutex
	log []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.log = append(r.log, exchange{req: req, reqBody: reqBody, status: resp.StatusCode, header: resp.Header.Clone(), body: body})
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) exchanges() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.log...)
}

// findRoute maps a request path below /v1 to the spec's path template that
// has the method: of several that match (/api_keys/verify and
// /api_keys/{apiKeyID}), the one with the most literal segments.
func findRoute(doc *openapi3.T, method, path string) (*routers.Route, map[string]string) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	var best *routers.Route
	var bestParams map[string]string
	for tmpl, item := range doc.Paths.Map() {
		ts := strings.Split(strings.Trim(tmpl, "/"), "/")
		if len(ts) != len(seg) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i := range ts {
			switch {
			case strings.HasPrefix(ts[i], "{"):
				params[strings.Trim(ts[i], "{}")] = seg[i]
			case ts[i] != seg[i]:
				ok = false
			}
			if !ok {
				break
			}
		}
		op := item.GetOperation(method)
		if !ok || op == nil || (best != nil && len(params) >= len(bestParams)) {
			continue
		}
		best, bestParams = &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op}, params
	}
	return best, bestParams
}

// emulatorPath is the prefix of the emulator's own paths (POST
// /__emulator/oauth_access_tokens), which Clerk's spec does not have.
const emulatorPath = "/__emulator/"

// validateExchange checks an answer against doc: the operation's schema for a
// status the spec lists, the spec's ClerkErrors schema otherwise. An answer of
// the Frontend API (at the origin: /.well-known/…, /oauth/…) is checked
// against Clerk's Frontend API spec instead (validateFrontendExchange).
func validateExchange(doc *openapi3.T, e exchange) error {
	if isFrontendPath(e.req.URL.Path) {
		return validateFrontendExchange(e) // Clerk's Frontend API: another spec
	}
	ct := e.header.Get("Content-Type")
	switch {
	case e.status == http.StatusNoContent && (ct != "" || len(e.body) != 0):
		return fmt.Errorf("204 with Content-Type %q and a %d-byte body, want neither", ct, len(e.body))
	case e.status != http.StatusNoContent && ct != "application/json":
		return fmt.Errorf("got Content-Type %q, want application/json", ct)
	}
	path := strings.TrimPrefix(e.req.URL.Path, "/v1")
	if strings.HasPrefix(path, emulatorPath) {
		if e.status >= 400 {
			return validateClerkErrors(doc, e.body)
		}
		return nil // the emulator's own endpoint: not Clerk's, no schema
	}
	route, params := findRoute(doc, e.req.Method, path)
	if e.status >= 200 && e.status < 300 {
		if route == nil {
			return fmt.Errorf("success for %s %s, which the spec does not have", e.req.Method, path)
		}
		if err := validateRequest(route, params, e); err != nil {
			return fmt.Errorf("the emulator accepted a request the spec rejects: %w", err)
		}
	}
	if route != nil && route.Operation.Responses.Status(e.status) != nil {
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: e.req, PathParams: params, Route: route},
			Status:                 e.status,
			Header:                 e.header,
			Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		in.SetBodyBytes(e.body)
		return openapi3filter.ValidateResponse(context.Background(), in)
	}
	if e.status < 400 {
		return fmt.Errorf("status %d is not in the spec for %s %s", e.status, e.req.Method, path)
	}
	return validateClerkErrors(doc, e.body)
}

// validateClerkErrors checks an error body against the spec's ClerkErrors.
func validateClerkErrors(doc *openapi3.T, body []byte) error {
	ref := doc.Components.Schemas["ClerkErrors"]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("spec has no ClerkErrors schema")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("error body is not JSON: %v", err)
	}
	return ref.Value.VisitJSON(v)
}

// validateAll checks every exchange against the subset spec and, when present,
// the full spec.
func validateAll(t *testing.T, exs []exchange) {
	t.Helper()
	for _, name := range []string{"subset", "full"} {
		t.Run("spec="+name, func(t *testing.T) {
			docs := specDocs(t)
			doc, ok := docs[name]
			if !ok {
				t.Skipf("%s is absent (only beside the project's source, not in a clone): validated against %s only",
					filepath.Clean(fullSpec), subsetSpec)
			}
			for _, e := range exs {
				if err := validateExchange(doc, e); err != nil {
					t.Errorf("%v: answer does not conform: %v\nbody: %.300s", e, err, e.body)
				}
			}
		})
	}
}

// validateRequest checks a request the emulator accepted against the
// operation's parameters and body schema (security is not checked).
func validateRequest(route *routers.Route, params map[string]string, e exchange) error {
	req := e.req.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(e.reqBody))
	if req.Header.Get("Content-Type") == "" && len(e.reqBody) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	return openapi3filter.ValidateRequest(context.Background(), in)
}
