package m2mgin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mgin"
	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// TestContextKeyAsBasicAuth: like Gin's own BasicAuth (c.Set(gin.AuthUserKey,
// user)), the middleware stores what it verified with c.Set, under the
// configured key or DefaultContextKey, for c.Get and c.MustGet; the token is
// in the request's context too, and Token finds it.
func TestContextKeyAsBasicAuth(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mw      gin.HandlerFunc
		key     string
		want    any
		wantTok bool // a request context token and Token(c)
		auth    string
	}{
		{"gin.BasicAuth", gin.BasicAuth(gin.Accounts{"alice": "secret"}), gin.AuthUserKey, "alice", false, "Basic YWxpY2U6c2VjcmV0"},
		{"Middleware", m2mgin.Middleware(adaptertest.NewReceiver(t)), m2mgin.DefaultContextKey, adaptertest.Token, true, "Bearer " + adaptertest.GoodToken},
		{"custom ContextKey", m2mgin.MiddlewareWithConfig(m2mgin.Config{Authenticator: adaptertest.NewReceiver(t), ContextKey: "caller"}),
			"caller", adaptertest.Token, true, "Bearer " + adaptertest.GoodToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := gin.New()
			called := false
			e.GET("/api", tc.mw, func(c *gin.Context) {
				called = true
				if got := c.MustGet(tc.key); got != tc.want {
					t.Errorf("got c.MustGet(%q) = %v, want %v", tc.key, got, tc.want)
				}
				if !tc.wantTok {
					return
				}
				if got, ok := middleware.TokenFromContext(c.Request.Context()); got != adaptertest.Token || !ok {
					t.Errorf("got (%v, %v) in the request's context, want the token", got, ok)
				}
				if got, ok := m2mgin.Token(c); got != adaptertest.Token || !ok {
					t.Errorf("got Token (%v, %v), want the token", got, ok)
				}
				c.Status(http.StatusOK)
			})
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			r.Header.Set("Authorization", tc.auth)
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if !called || w.Code != 200 {
				t.Fatalf("got (next called %v, status %d), want (true, 200)", called, w.Code)
			}
		})
	}
}

// TestTokenEitherWay: Token reads a token stored with c.Set under
// DefaultContextKey, or one in the request's context only.
func TestTokenEitherWay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(c *gin.Context)
	}{
		{"c.Set", func(c *gin.Context) { c.Set(m2mgin.DefaultContextKey, adaptertest.Token) }},
		{"request context", func(c *gin.Context) {
			c.Request = c.Request.WithContext(middleware.NewContext(c.Request.Context(), adaptertest.Token))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
			tc.store(c)
			if got, ok := m2mgin.Token(c); got != adaptertest.Token || !ok {
				t.Fatalf("got (%v, %v), want the token", got, ok)
			}
		})
	}
}

// TestErrorHandler: the Gin-style error handler gets the cause (also in
// c.Errors, the headers already set), writes the answer, and the chain stops
// whether it aborts or not; one that writes nothing leaves the default
// answer.
func TestErrorHandler(t *testing.T) {
	for _, tc := range []struct {
		name       string
		handle     func(c *gin.Context)
		wantStatus int
		wantBody   string
	}{
		{"AbortWithStatusJSON", func(c *gin.Context) { c.AbortWithStatusJSON(http.StatusTeapot, gin.H{"why": "teapot"}) },
			418, `{"why":"teapot"}`},
		{"JSON without Abort", func(c *gin.Context) { c.JSON(http.StatusTeapot, gin.H{"why": "teapot"}) },
			418, `{"why":"teapot"}`},
		{"a status only", func(c *gin.Context) { c.Status(http.StatusTeapot) }, 418, ""},
		{"nothing written", func(*gin.Context) {}, 401, `"error":"invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got error
			var www string
			var ginErrs int
			mw := m2mgin.MiddlewareWithConfig(m2mgin.Config{Authenticator: adaptertest.NewReceiver(t),
				ErrorHandler: func(c *gin.Context, err error) {
					got, www, ginErrs = err, c.Writer.Header().Get("WWW-Authenticate"), len(c.Errors)
					tc.handle(c)
				}})
			e := gin.New()
			e.GET("/api", mw, func(*gin.Context) { t.Error("next called") })
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			r.Header.Set("Authorization", "Bearer mt_bad")
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if !errors.Is(got, verifier.ErrInvalidToken) || ginErrs != 1 {
				t.Errorf("handler got (%v, %d in c.Errors), want (ErrInvalidToken, 1)", got, ginErrs)
			}
			if !strings.HasPrefix(www, `Bearer realm="api", error="invalid_token"`) {
				t.Errorf("got WWW-Authenticate %q when the handler ran, want it set", www)
			}
			if w.Code != tc.wantStatus || !strings.Contains(w.Body.String(), tc.wantBody) {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

func TestConfigIsValidated(t *testing.T) {
	if mw, err := (m2mgin.Config{}).ToMiddleware(); err == nil || !strings.Contains(err.Error(), "Authenticator is required") {
		t.Fatalf("got (%v, %v), want an error saying the Authenticator is required", mw != nil, err)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Errorf("MiddlewareWithConfig did not panic, want a panic")
		}
	}()
	m2mgin.MiddlewareWithConfig(m2mgin.Config{})
}

// TestErrorHandlerCannotResumeTheChain is the attacker's test: an
// ErrorHandler that calls c.Next() (by mistake, or to "log and continue")
// must not run the handlers behind the middleware for a request without a
// valid token; the chain is aborted before the ErrorHandler runs. Over a
// real HTTP server.
func TestErrorHandlerCannotResumeTheChain(t *testing.T) {
	for _, tc := range []struct {
		name       string
		handle     func(c *gin.Context)
		wantStatus int
		wantError  string // the JSON body's "error"; "" for none
	}{
		{"c.Next() and nothing else", func(c *gin.Context) { c.Next() }, 401, "missing_token"},
		{"c.Next() then an answer", func(c *gin.Context) {
			c.Next()
			c.JSON(http.StatusTeapot, gin.H{"error": "teapot"})
		}, 418, "teapot"},
		{"c.Next() twice", func(c *gin.Context) { c.Next(); c.Next() }, 401, "missing_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex // the server's goroutines write reached
			var reached []string
			reach := func(what string) {
				mu.Lock()
				reached = append(reached, what)
				mu.Unlock()
			}
			mw := m2mgin.MiddlewareWithConfig(m2mgin.Config{Authenticator: adaptertest.NewReceiver(t),
				ErrorHandler: func(c *gin.Context, _ error) { tc.handle(c) }})
			e := gin.New()
			e.GET("/api", mw,
				func(c *gin.Context) { reach("middleware behind"); c.Next() },
				func(c *gin.Context) {
					reach("protected handler")
					c.String(http.StatusOK, "secret")
				})
			srv := httptest.NewServer(e)
			defer srv.Close()
			res, err := srv.Client().Get(srv.URL + "/api") // no token
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Error string }
			derr := json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			if len(reached) != 0 {
				t.Errorf("got %v run for a request without a token, want nothing behind the middleware", reached)
			}
			if res.StatusCode != tc.wantStatus || derr != nil || body.Error != tc.wantError {
				t.Errorf("got %d %q (%v), want %d %q", res.StatusCode, body.Error, derr, tc.wantStatus, tc.wantError)
			}
		})
	}
}
