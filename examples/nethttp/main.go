// Command nethttp is a small service protected by m2mauth with net/http's
// ServeMux: GET /healthz is public, GET /api/whoami needs a valid M2M token
// scoped to this service, GET /api/reports also needs the claim
// {"role":"reporter"}.
//
// With no CLERK_SECRET_KEY / CLERK_MACHINE_SECRET_KEY it starts the embedded
// Clerk emulator and prints a ready token and curl lines:
//
//	go run ./examples/nethttp
//
// Environment: CLERK_SECRET_KEY (sk_…, needs M2M_AUDIENCE) or
// CLERK_MACHINE_SECRET_KEY (ak_…), CLERK_API_URL, M2M_AUDIENCE (this
// service's machine ID), ADDR (default 127.0.0.1:8080).
package main

import (
	"encoding/json"
	"net/http"

	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/examples/internal/demo"
)

func main() { demo.Main("nethttp", handler) }

func handler(svc *demo.Service) http.Handler {
	api, reports := m2mhttp.Middleware(svc.API), m2mhttp.Middleware(svc.Reports)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, demo.Health)
	})
	mux.Handle("GET /api/whoami", api(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := m2mhttp.Token(r)
		writeJSON(w, demo.NewWhoAmI(tok))
	})))
	mux.Handle("GET /api/reports", reports(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := m2mhttp.Token(r)
		writeJSON(w, demo.NewReports(tok))
	})))
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
