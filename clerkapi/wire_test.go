package clerkapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// seen is one request as a wireServer received it.
type seen struct {
	method, path string
	header       http.Header
	body         []byte
}

// wireServer answers every request with status and body and keeps what it
// received, so that tests can check the request's exact shape.
type wireServer struct {
	mu     sync.Mutex
	got    []seen
	status int
	body   string
}

func newWireServer(t *testing.T, status int, body string) (*wireServer, string) {
	t.Helper()
	ws := &wireServer{status: status, body: body}
	srv := httptest.NewServer(ws)
	t.Cleanup(srv.Close)
	return ws, srv.URL + "/v1"
}

func (ws *wireServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	ws.mu.Lock()
	ws.got = append(ws.got, seen{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: b})
	status, body := ws.status, ws.body
	ws.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (ws *wireServer) requests() []seen {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return slices.Clone(ws.got)
}

// jsonKeys returns the member names of a JSON object, sorted.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %s: %v", b, err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// compactJSON returns b without insignificant white space.
func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("not JSON: %s: %v", b, err)
	}
	return out.String()
}

// TestVerifyAnswersAreBounded: the API key and OAuth verify answers are read
// through the same size limit as every other answer.
func TestVerifyAnswersAreBounded(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer string
		call   func(c *clerkapi.Client) error
	}{
		{"api key", apiKeyAnswer, func(c *clerkapi.Client) error {
			_, err := c.VerifyAPIKey(context.Background(), "ak_x")
			return err
		}},
		{"oauth", oauthAnswer, func(c *clerkapi.Client) error {
			_, err := c.VerifyOAuthAccessToken(context.Background(), "oat_x")
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, base := newWireServer(t, 200, c.answer)
			limit := int64(len(c.answer))
			if err := c.call(apiClient(t, base, "sk_test_x", clerkapi.WithMaxResponseBytes(limit))); err != nil {
				t.Errorf("answer at the limit: got %v, want success", err)
			}
			if err := c.call(apiClient(t, base, "sk_test_x", clerkapi.WithMaxResponseBytes(limit-1))); !errors.Is(err, clerkapi.ErrResponseTooLarge) {
				t.Errorf("answer one byte over the limit: got %v, want ErrResponseTooLarge", err)
			}
		})
	}
}
