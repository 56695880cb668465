package testkit

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// RawCase is one HTTP request to the emulator and the status it must get.
type RawCase struct {
	Name   string
	Key    string // Authorization: Bearer key; "-" sends no header
	Method string
	Path   string // below the base URL, with query
	Body   string
	Want   int
	Code   string // Clerk error code the answer must carry, if any
}

// SendRaw sends c to the emulator at base and returns the answer and its body.
func SendRaw(t *testing.T, hc *http.Client, base string, c RawCase) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if c.Body != "" {
		body = strings.NewReader(c.Body)
	}
	req, err := http.NewRequest(c.Method, base+c.Path, body)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	if c.Key != "-" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	if c.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading body: %v", c.Name, err)
	}
	return resp, b
}
