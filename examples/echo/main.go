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
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/labstack/echo/v4"

	"github.com/m2mauth/m2mauth/adapters/m2mecho"
	"github.com/m2mauth/m2mauth/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := demo.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	svc, err := demo.Setup(cfg, stdout)
	if err != nil {
		return err
	}
	defer svc.Close()
	return svc.Serve(ctx, handler(svc), stdout)
}

func handler(svc *demo.Service) *echo.Echo {
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
