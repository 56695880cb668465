package verifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"syscall"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestIsConnectionFailure(t *testing.T) {
	do := func(err error) error { // as clerkapi wraps an http.Client.Do error
		return fmt.Errorf("clerkapi: POST /m2m_tokens/verify: %w", &url.Error{Op: "Post", URL: "http://x/v1/m2m_tokens/verify", Err: err})
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused", do(syscall.ECONNREFUSED), true},
		{"reset", do(syscall.ECONNRESET), true},
		{"closed without answer", do(io.EOF), true},
		{"timeout", do(timeoutErr{}), false},
		{"context deadline", do(context.DeadlineExceeded), false},
		{"truncated body after a status", fmt.Errorf("clerkapi: POST /m2m_tokens/verify: status 200: %w", io.ErrUnexpectedEOF), false},
		{"body too large", fmt.Errorf("clerkapi: status 200: %w", clerkapi.ErrResponseTooLarge), false},
		{"API error", &clerkapi.APIError{StatusCode: 503}, false},
		{"other", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isConnectionFailure(tc.err); got != tc.want {
				t.Errorf("isConnectionFailure(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
