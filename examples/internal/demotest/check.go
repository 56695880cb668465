package demotest

import (
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// RunFunc is an example's run function: it serves until ctx ends, reading
// its configuration with getenv and printing to stdout.
type RunFunc func(ctx context.Context, getenv func(string) string, stdout io.Writer) error

// A request is one call to a running example and what it must answer.
type request struct {
	name       string
	path       string
	token      string // "" sends no Authorization header
	wantStatus int
	wantError  string // the JSON body's "error" on a refusal
}

// Check runs every end-to-end test of an example that serves the routes of
// examples/production: GET /healthz, /api/whoami, /api/reports (the claim
// {"role":"reporter"}), /readyz and /metrics, with the embedded emulator's
// token carrying that claim.
func Check(t *testing.T, run RunFunc) { check(t, run, true) }

// CheckQuickStart runs the end-to-end tests of an example that serves GET
// /healthz and /api/whoami only (examples/nethttp), with the embedded
// emulator's token carrying no claims.
func CheckQuickStart(t *testing.T, run RunFunc) { check(t, run, false) }

// check runs the tests; full says whether the example serves every route
// of Check.
func check(t *testing.T, run RunFunc, full bool) {
	t.Run("embedded emulator", func(t *testing.T) { checkEmbedded(t, run, full) })
	t.Run("configured", func(t *testing.T) { checkConfigured(t, run, full) })
	t.Run("refused configuration", func(t *testing.T) { checkRefused(t, run) })
	if full {
		t.Run("readiness and metrics", func(t *testing.T) { checkOperations(t, run) })
	}
}

// served is reqs without those for /api/reports unless full.
func served(reqs []request, full bool) []request {
	if full {
		return reqs
	}
	var out []request
	for _, r := range reqs {
		if r.path != "/api/reports" {
			out = append(out, r)
		}
	}
	return out
}

var (
	bearerRE   = regexp.MustCompile(`Bearer (mt_[A-Za-z0-9]+)`) // as scripts/loadtest.sh greps it
	audienceRE = regexp.MustCompile(`the audience\): +(mch_\w+)`)
)

// checkEmbedded: with no key the example starts the emulator and prints a
// token that works on the protected routes.
func checkEmbedded(t *testing.T, run RunFunc, full bool) {
	svc := start(t, run, map[string]string{"ADDR": "127.0.0.1:0"})
	out := svc.out.String()
	m := bearerRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("got output\n%s\nwant curl lines with a Bearer mt_… token", out)
	}
	token := m[1]
	a := audienceRE.FindStringSubmatch(out)
	if a == nil {
		t.Fatalf("got output\n%s\nwant the receiver machine's ID", out)
	}
	audience := a[1]
	// An API key's secret (ak_…) is a bearer credential, printed for
	// /api/exports like the M2M token; a machine or instance secret key
	// never is.
	var keyless []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "/api/exports") {
			keyless = append(keyless, l)
		}
	}
	if rest := strings.Join(keyless, "\n"); strings.Contains(rest, "sk_") || strings.Contains(rest, "ak_") {
		t.Errorf("got output\n%s\nwant no secret key in it", out)
	}
	svc.check(t, served([]request{
		{"healthz is public", "/healthz", "", 200, ""},
		{"whoami without a token", "/api/whoami", "", 401, "missing_token"},
		{"whoami with the printed token", "/api/whoami", token, 200, ""},
		{"whoami with an unknown token", "/api/whoami", "mt_00000000000000000000000000000000", 401, "invalid_token"},
		{"reports with the printed token", "/api/reports", token, 200, ""},
		{"reports with an unknown token", "/api/reports", "mt_00000000000000000000000000000001", 401, "invalid_token"},
	}, full))

	_, who := svc.get(t, "/api/whoami", token)
	if s, _ := who["subject"].(string); !strings.HasPrefix(s, "mch_") {
		t.Errorf("whoami subject: got %q, want mch_…", s)
	}
	if c, _ := who["claims"].(map[string]any); full && c["role"] != "reporter" {
		t.Errorf("whoami claims: got %v, want role=reporter", who["claims"])
	} else if !full && who["claims"] != nil {
		t.Errorf("whoami claims: got %v, want null", who["claims"])
	}
	if s, _ := who["scopes"].([]any); len(s) != 1 || s[0] != audience {
		t.Errorf("whoami scopes: got %v, want [%s]", who["scopes"], audience)
	}
	if id, _ := who["token_id"].(string); !strings.HasPrefix(id, "mt_") {
		t.Errorf("whoami token_id: got %q, want mt_…", id)
	}
	if who["format"] != "opaque" {
		t.Errorf("whoami format: got %v, want opaque", who["format"])
	}
	if who["expires_at"] == nil {
		t.Errorf("whoami: got %v, want an expires_at", who)
	}
	if b, _ := json.Marshal(who); strings.Contains(string(b), token) {
		t.Errorf("whoami: got %s, want no token value in it", b)
	}
	if !full {
		return
	}
	_, rep := svc.get(t, "/api/reports", token)
	if rep["for"] != who["subject"] {
		t.Errorf("reports: got %v, want them for %v", rep, who["subject"])
	}
}

// checkConfigured configures the example as against a real Clerk (the test's
// own emulator), with the instance's key and with the service's machine key.
func checkConfigured(t *testing.T, run RunFunc, full bool) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	receiver := clerk.CreateMachine("reports-service")
	caller := clerk.CreateMachine("billing-worker", receiver.ID)
	elsewhere := clerk.CreateMachine("search-service")
	stranger := clerk.CreateMachine("search-indexer", elsewhere.ID)
	mint := func(m *clerktest.Machine, claims any) string {
		tok, err := clerk.CreateToken(m.ID, clerkapi.CreateParams{Claims: claims})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	reporter := mint(caller, map[string]string{"role": "reporter"})
	intern := mint(caller, map[string]string{"role": "intern"})
	noClaims := mint(caller, nil)
	outsider := mint(stranger, map[string]string{"role": "reporter"})

	for _, tc := range []struct {
		name     string
		key      string // the secret key given
		env      map[string]string
		requests []request
	}{
		{"Clerk secret key and audience", clerk.SecretKey,
			map[string]string{"CLERK_SECRET_KEY": clerk.SecretKey, "M2M_AUDIENCE": receiver.ID}, []request{
				{"healthz is public", "/healthz", "", 200, ""},
				{"whoami, reporter", "/api/whoami", reporter, 200, ""},
				{"whoami, intern", "/api/whoami", intern, 200, ""},
				{"whoami, no claims", "/api/whoami", noClaims, 200, ""},
				{"whoami, not scoped to this service", "/api/whoami", outsider, 403, "insufficient_scope"},
				{"reports, reporter", "/api/reports", reporter, 200, ""},
				{"reports, intern", "/api/reports", intern, 403, "insufficient_scope"},
				{"reports, no claims", "/api/reports", noClaims, 403, "insufficient_scope"},
				{"reports, not scoped, right role", "/api/reports", outsider, 403, "insufficient_scope"},
				{"reports without a token", "/api/reports", "", 401, "missing_token"},
			}},
		{"machine secret key and audience", receiver.SecretKey,
			map[string]string{"CLERK_MACHINE_SECRET_KEY": receiver.SecretKey, "M2M_AUDIENCE": receiver.ID}, []request{
				{"whoami, intern", "/api/whoami", intern, 200, ""},
				{"whoami, not scoped: Clerk refuses it", "/api/whoami", outsider, 401, "invalid_token"},
				{"reports, reporter", "/api/reports", reporter, 200, ""},
				{"reports, intern", "/api/reports", intern, 403, "insufficient_scope"},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["CLERK_API_URL"] = clerk.URL
			tc.env["ADDR"] = "127.0.0.1:0"
			svc := start(t, run, tc.env)
			reqs := served(tc.requests, full)
			if out := svc.out.String(); !strings.Contains(out, "Bearer $M2M_TOKEN") || strings.Contains(out, "emulator") || strings.Contains(out, tc.key) {
				t.Errorf("got output\n%s\nwant curl lines with $M2M_TOKEN, no emulator and no key", out)
			}
			clerk.ResetCalls()
			svc.check(t, reqs[:1])
			if n := clerk.Calls(clerktest.EndpointVerify); reqs[0].token == "" && n != 0 {
				t.Errorf("%s: got %d verify calls, want 0", reqs[0].name, n)
			}
			svc.check(t, reqs[1:])
		})
	}
}

// checkRefused: a configuration that cannot be served safely makes run
// return an error, without listening and without naming the key.
func checkRefused(t *testing.T, run RunFunc) {
	clerk := clerktest.NewServer()
	defer clerk.Close()
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"Clerk secret key without audience", map[string]string{"CLERK_SECRET_KEY": clerk.SecretKey, "CLERK_API_URL": clerk.URL}},
		{"audience not a machine ID", map[string]string{"CLERK_SECRET_KEY": clerk.SecretKey, "CLERK_API_URL": clerk.URL, "M2M_AUDIENCE": "reports-service"}},
		{"not a Clerk key", map[string]string{"CLERK_SECRET_KEY": "pk_test_c29tZXRoaW5n", "CLERK_API_URL": clerk.URL}},
		{"bad address, embedded emulator", map[string]string{"ADDR": "127.0.0.1:notaport"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := newOutput()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- run(ctx, func(k string) string { return tc.env[k] }, out) }()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("got a nil error, want one")
				}
				if key := tc.env["CLERK_SECRET_KEY"]; key != "" && strings.Contains(err.Error(), key) {
					t.Errorf("got error %q, want no secret key in it", err)
				}
			case u := <-out.listening:
				cancel()
				<-done
				t.Fatalf("got a service listening on %s, want an error", u)
			}
		})
	}
}
