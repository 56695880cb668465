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
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/adapters/m2mgin"
	"github.com/m2mauth/m2mauth/examples/internal/demo"
)

func main() { demo.Main("gin", handler) }

func handler(svc *demo.Service) http.Handler {
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
