package demotest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// service is an example running in the test.
type service struct {
	base   string
	out    *output
	client *http.Client
}

// start runs the example with env and returns once it listens; the test's
// clean-up stops it and expects run to return nil.
func start(t *testing.T, run RunFunc, env map[string]string) *service {
	t.Helper()
	out := newOutput()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, out) }()
	var base string
	select {
	case base = <-out.listening:
	case err := <-done:
		cancel()
		t.Fatalf("run returned %v before listening; output:\n%s", err, out.String())
	}
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run returned %v after its context ended, want nil", err)
		}
	})
	return &service{base: base, out: out, client: &http.Client{Transport: tr}}
}

// Start runs the example with env until the test ends (then it expects run
// to return nil) and returns its URL and what it printed up to its
// "Listening on" line, for an example's own tests.
func Start(t *testing.T, run RunFunc, env map[string]string) (base, printed string) {
	t.Helper()
	s := start(t, run, env)
	return s.base, s.out.String()
}

// check sends each request and compares the answer.
func (s *service) check(t *testing.T, reqs []request) {
	t.Helper()
	for _, r := range reqs {
		status, body := s.get(t, r.path, r.token)
		if status != r.wantStatus {
			t.Errorf("%s: GET %s: got %d %v, want %d", r.name, r.path, status, body, r.wantStatus)
			continue
		}
		if got, _ := body["error"].(string); got != r.wantError {
			t.Errorf("%s: GET %s: got error %q, want %q", r.name, r.path, got, r.wantError)
		}
		if r.path == "/healthz" && body["status"] != "ok" {
			t.Errorf("%s: got %v, want {\"status\":\"ok\"}", r.name, body)
		}
	}
}

// get sends GET path with the bearer token (none if "") and returns the
// status and the decoded JSON body. A 401 must carry a challenge.
func (s *service) get(t *testing.T, path, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: got status %d and a body that is not a JSON object: %v", path, res.StatusCode, err)
	}
	if res.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("GET %s: got 401 with WWW-Authenticate %q, want a Bearer challenge", path, res.Header.Get("WWW-Authenticate"))
	}
	return res.StatusCode, body
}
