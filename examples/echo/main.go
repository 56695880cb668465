// Command echo is the example service of examples/nethttp written with Echo
// v4: GET /healthz is public, GET /api/whoami needs a valid M2M token scoped
// to this service, GET /api/reports also needs the claim {"role":"reporter"}.
//
// With no CLERK_SECRET_KEY / CLERK_MACHINE_SECRET_KEY it starts the embedded
// Clerk emulator and prints a ready token and curl lines:
//
//	go run ./examples/echo
//
// Environment: as examples/nethttp.
package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/m2mauth/m2mauth/adapters/m2mecho"
	"github.com/m2mauth/m2mauth/examples/internal/demo"
)

func main() { demo.Main("echo", handler) }

func handler(svc *demo.Service) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, demo.Health) })
	api := e.Group("/api")
	api.GET("/whoami", func(c echo.Context) error {
		tok, _ := m2mecho.Token(c)
		return c.JSON(http.StatusOK, demo.NewWhoAmI(tok))
	}, m2mecho.Middleware(svc.API))
	api.GET("/reports", func(c echo.Context) error {
		tok, _ := m2mecho.Token(c)
		return c.JSON(http.StatusOK, demo.NewReports(tok))
	}, m2mecho.Middleware(svc.Reports))
	return e
}
