package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// embedded is a Clerk emulator and a service protected as its receiver
// machine, for running the caller without a Clerk account.
type embedded struct {
	clerk    *clerktest.Server
	service  *httptest.Server
	verifier *verifier.Verifier

	callerKey, apiURL, targetURL string
}

// startEmbedded starts the emulator with two machines — a caller scoped to a
// receiver — and the receiver's service, which verifies tokens with the
// instance's secret key and requires its own machine ID among their scopes.
func startEmbedded() (*embedded, error) {
	clerk := clerktest.NewServer()
	receiver := clerk.CreateMachine("receiver")
	caller := clerk.CreateMachine("caller", receiver.ID)

	v, err := verifier.New(clerk.SecretKey, verifier.WithBaseURL(clerk.URL))
	if err != nil {
		clerk.Close()
		return nil, err
	}
	auth, err := middleware.New(v, middleware.WithAudience(receiver.ID))
	if err != nil {
		v.Close()
		clerk.Close()
		return nil, err
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := m2mhttp.Token(r)
		if !ok {
			http.Error(w, "not authenticated", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "hello %s\n", tok.Subject)
	})
	service := httptest.NewServer(m2mhttp.Middleware(auth)(hello))
	return &embedded{
		clerk: clerk, service: service, verifier: v,
		callerKey: caller.SecretKey, apiURL: clerk.URL, targetURL: service.URL,
	}, nil
}

// Close stops the service, the verifier and the emulator.
func (e *embedded) Close() {
	e.service.Close()
	e.verifier.Close()
	e.clerk.Close()
}
