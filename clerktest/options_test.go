package clerktest_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/clerktest/internal/testkit"
)

func TestStartOnListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := clerktest.Start(l, clerktest.WithSecretKey("sk_test_fixedkeyfortests"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if want := "http://" + l.Addr().String() + "/v1"; srv.URL != want || srv.SecretKey != "sk_test_fixedkeyfortests" {
		t.Fatalf("got URL %q key %q, want %q and the fixed key", srv.URL, srv.SecretKey, want)
	}
	if _, err := testkit.NewClient(t, srv, srv.SecretKey).JWKS(context.Background()); err != nil {
		t.Errorf("JWKS on the listener: %v", err)
	}
}

func TestHandler(t *testing.T) {
	srv := clerktest.NewServer()
	defer srv.Close()
	m := srv.CreateMachine("m", srv.CreateMachine("r").ID)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/m2m_tokens", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+m.SecretKey)
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("got %d %q, want 201 application/json", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestOptionValidation(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  clerktest.Option
	}{
		{"nil clock", clerktest.WithClock(nil)},
		{"key without prefix", clerktest.WithSecretKey("secret")},
		{"machine key as instance key", clerktest.WithSecretKey("ak_0123456789")},
		{"key with space", clerktest.WithSecretKey("sk_test_ab cdefgh")},
		{"OAuth user not a user ID", clerktest.WithOAuthUser("org_2xhFjEI5X2qWRvtV13BzSj8H6Dk")},
		{"OAuth user empty", clerktest.WithOAuthUser("")},
		{"OAuth token format unknown", clerktest.WithOAuthAccessTokenFormat("paseto")},
		{"OAuth token format empty", clerktest.WithOAuthAccessTokenFormat("")},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := clerktest.Start(l, c.opt); err == nil {
				t.Error("Start: got nil, want an error")
			}
			if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
				t.Error("Start failed but left the listener open")
			}
			defer func() {
				if recover() == nil {
					t.Error("NewServer: got no panic, want one")
				}
			}()
			clerktest.NewServer(c.opt).Close()
		})
	}
}

func TestInstanceKeysDiffer(t *testing.T) {
	a, b := clerktest.NewServer(), clerktest.NewServer()
	defer a.Close()
	defer b.Close()
	if a.SecretKey == b.SecretKey || !strings.HasPrefix(a.SecretKey, "sk_test_") {
		t.Errorf("got keys %q and %q, want distinct sk_test_ keys", a.SecretKey, b.SecretKey)
	}
	if _, err := testkit.NewClient(t, a, b.SecretKey).JWKS(context.Background()); statusOf(err) != 401 {
		t.Errorf("another instance's key: got %v, want 401", err)
	}
}
