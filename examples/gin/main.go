// Command gin is the example service of examples/nethttp written with Gin:
// GET /healthz is public, GET /api/whoami needs a valid M2M token scoped to
// this service, GET /api/reports also needs the claim {"role":"reporter"}.
//
// With no CLERK_SECRET_KEY / CLERK_MACHINE_SECRET_KEY it starts the embedded
// Clerk emulator and prints a ready token and curl lines:
//
//	go run ./examples/gin
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

	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/adapters/m2mgin"
	"github.com/m2mauth/m2mauth/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gin:", err)
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

func handler(svc *demo.Service) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, demo.Health) })
	api := r.Group("/api")
	api.GET("/whoami", m2mgin.Middleware(svc.API), func(c *gin.Context) {
		tok, _ := m2mgin.Token(c)
		c.JSON(http.StatusOK, demo.NewWhoAmI(tok))
	})
	api.GET("/reports", m2mgin.Middleware(svc.Reports), func(c *gin.Context) {
		tok, _ := m2mgin.Token(c)
		c.JSON(http.StatusOK, demo.NewReports(tok))
	})
	return r
}
