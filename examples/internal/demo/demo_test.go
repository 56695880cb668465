package demo_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/examples/internal/demo"
	"github.com/m2mauth/m2mauth/middleware"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    demo.Config
		wantErr bool
	}{
		{"empty: emulator, default address", nil, demo.Config{Addr: demo.DefaultAddr}, false},
		{"instance key needs an audience", map[string]string{"CLERK_SECRET_KEY": "sk_test_x"}, demo.Config{}, true},
		{"instance key and audience", map[string]string{"CLERK_SECRET_KEY": "sk_test_x", "M2M_AUDIENCE": "mch_me", "ADDR": ":9000", "CLERK_API_URL": "http://clerk/v1"},
			demo.Config{SecretKey: "sk_test_x", Audience: "mch_me", Addr: ":9000", APIURL: "http://clerk/v1"}, false},
		{"machine key alone", map[string]string{"CLERK_MACHINE_SECRET_KEY": "ak_x"}, demo.Config{SecretKey: "ak_x", Addr: demo.DefaultAddr}, false},
		{"instance key wins", map[string]string{"CLERK_SECRET_KEY": "sk_x", "CLERK_MACHINE_SECRET_KEY": "ak_x", "M2M_AUDIENCE": "mch_me"},
			demo.Config{SecretKey: "sk_x", Audience: "mch_me", Addr: demo.DefaultAddr}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := demo.ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got (%+v, %v), want %+v", got, err, tc.want)
			}
		})
	}
}

// TestSetupWithKey configures the demo as against a real Clerk (key, API URL,
// audience) and checks both authenticators' policies.
func TestSetupWithKey(t *testing.T) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	receiver := clerk.CreateMachine("receiver")
	caller := clerk.CreateMachine("caller", receiver.ID)
	svc, err := demo.Setup(demo.Config{SecretKey: clerk.SecretKey, APIURL: clerk.URL, Audience: receiver.ID}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if svc.Emulator != nil || svc.DemoToken != "" {
		t.Fatal("got an embedded emulator, want none with a key")
	}
	mint := func(claims any) string {
		tok, err := clerk.CreateToken(caller.ID, clerkapi.CreateParams{Claims: claims})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	reporter, intern := mint(map[string]string{"role": "reporter"}), mint(nil)
	for _, tc := range []struct {
		name  string
		a     *middleware.Authenticator
		path  string
		token string
		want  int
	}{
		{"api, any role", svc.API, "/api/whoami", intern, 200},
		{"api, public path", svc.API, "/healthz", "", 200},
		{"api, no token", svc.API, "/api/whoami", "", 401},
		{"reports, reporter", svc.Reports, "/api/reports", reporter, 200},
		{"reports, no role", svc.Reports, "/api/reports", intern, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.token != "" {
				r.Header.Set("Authorization", "Bearer "+tc.token)
			}
			status := 200
			if _, err := tc.a.Authenticate(r); err != nil {
				status = tc.a.Response(err).Status
			}
			if status != tc.want {
				t.Fatalf("got %d, want %d", status, tc.want)
			}
		})
	}
}

// TestRunFails: Run returns a configuration or set-up error without building
// the routes, and a listen error after building them (and closes the Service:
// goleak would catch an emulator left running).
func TestRunFails(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		wantErr   string
		wantBuilt bool
	}{
		{"instance key without audience", map[string]string{"CLERK_SECRET_KEY": "sk_test_x"}, "M2M_AUDIENCE", false},
		{"not a Clerk key", map[string]string{"CLERK_SECRET_KEY": "nope"}, "demo:", false},
		{"bad address", map[string]string{"ADDR": "127.0.0.1:notaport"}, "notaport", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			built := false
			err := demo.Run(context.Background(), func(k string) string { return tc.env[k] }, io.Discard, func(*demo.Service) http.Handler {
				built = true
				return http.NotFoundHandler()
			})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
			}
			if built != tc.wantBuilt {
				t.Errorf("got handler built=%v, want %v", built, tc.wantBuilt)
			}
		})
	}
}
