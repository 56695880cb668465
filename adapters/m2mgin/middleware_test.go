package m2mgin_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mgin"
	"github.com/m2mauth/m2mauth/middleware"
)

func init() { gin.SetMode(gin.ReleaseMode) }

func TestMiddleware(t *testing.T) {
	for _, tc := range adaptertest.Cases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			e := gin.New()
			called := false
			var ginErrs []*gin.Error
			e.Use(func(c *gin.Context) { c.Next(); ginErrs = c.Errors }) // like a logging middleware
			e.Use(m2mgin.Middleware(tc.A))
			h := func(c *gin.Context) {
				called = true
				tok, ok := m2mgin.Token(c)
				tc.CheckToken(t, tok, ok)
				c.Status(http.StatusOK)
			}
			e.GET("/api", h)
			e.GET("/healthz", h)
			if !tc.Serve(t, e, &called) {
				return
			}
			if len(ginErrs) != 1 || ginErrs[0].Type != gin.ErrorTypePrivate {
				t.Errorf("got c.Errors %v, want the cause as one private error", ginErrs)
			}
		})
	}
}

func TestCustomErrorHandler(t *testing.T) {
	a, got := adaptertest.NewTeapot(t)
	e := gin.New()
	e.GET("/", m2mgin.Middleware(a), func(*gin.Context) { t.Error("next called") })
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusTeapot || !errors.Is(*got, middleware.ErrMissingToken) {
		t.Fatalf("got (status %d, handler error %v), want (418, ErrMissingToken)", w.Code, *got)
	}
}

func TestTokenWithoutMiddleware(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	if tok, ok := m2mgin.Token(c); ok || tok != nil {
		t.Fatalf("got (%v, %v), want (nil, false)", tok, ok)
	}
}
