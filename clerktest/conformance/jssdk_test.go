package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// jsSDKDir holds the Node script driving Clerk's JavaScript SDK and its
// package.json; `npm install --prefix clerktest/conformance/testdata/jssdk` installs it.
const jsSDKDir = "testdata/jssdk"

// jsToken is an M2MToken as m2m.mjs prints it (the SDK's camelCase fields).
type jsToken struct {
	ID               string         `json:"id"`
	Token            *string        `json:"token"`
	Subject          string         `json:"subject"`
	Scopes           []string       `json:"scopes"`
	Claims           map[string]any `json:"claims"`
	Revoked          bool           `json:"revoked"`
	RevocationReason *string        `json:"revocationReason"`
	Expired          bool           `json:"expired"`
	Expiration       *int64         `json:"expiration"`
	CreatedAt        int64          `json:"createdAt"`
	UpdatedAt        int64          `json:"updatedAt"`
}

// jsError is a ClerkAPIResponseError (or another thrown error) as m2m.mjs
// prints it.
type jsError struct {
	Name         string   `json:"name"`
	Code         *string  `json:"code"`
	Status       *int     `json:"status"`
	Codes        []string `json:"codes"`
	ClerkTraceID *string  `json:"clerkTraceId"`
}

type jsMachine struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	InstanceID      string   `json:"instanceId"`
	DefaultTokenTTL int64    `json:"defaultTokenTtl"`
	ScopedMachines  []string `json:"scopedMachines"`
}

type jsList struct {
	TotalCount int      `json:"totalCount"`
	IDs        []string `json:"ids"`
}

// jsResults is the JSON object m2m.mjs prints.
type jsResults struct {
	Created                   jsToken `json:"created"`
	VerifiedByReceiver        jsToken `json:"verifiedByReceiver"`
	VerifiedByReceiverPerCall jsToken `json:"verifiedByReceiverPerCall"`
	VerifiedByInstance        jsToken `json:"verifiedByInstance"`
	AuthenticateRequest       struct {
		IsAuthenticated bool           `json:"isAuthenticated"`
		TokenType       string         `json:"tokenType"`
		ID              string         `json:"id"`
		Subject         string         `json:"subject"`
		Scopes          []string       `json:"scopes"`
		Claims          map[string]any `json:"claims"`
	} `json:"authenticateRequest"`
	List                jsList  `json:"list"`
	ListByInstance      jsList  `json:"listByInstance"`
	Revoked             jsToken `json:"revoked"`
	VerifyRevoked       jsError `json:"verifyRevoked"`
	VerifyUnknown       jsError `json:"verifyUnknown"`
	AuthenticateRevoked struct {
		IsAuthenticated bool   `json:"isAuthenticated"`
		Reason          string `json:"reason"`
		Message         string `json:"message"`
	} `json:"authenticateRevoked"`
	VerifyWrongKey          jsError   `json:"verifyWrongKey"`
	CreateWithInstanceKey   jsError   `json:"createWithInstanceKey"`
	ListRevoked             jsList    `json:"listRevoked"`
	JWTCreated              jsToken   `json:"jwtCreated"`
	JWTVerified             jsToken   `json:"jwtVerified"`
	JWTTampered             jsError   `json:"jwtTampered"`
	MachineGet              jsMachine `json:"machineGet"`
	MachineList             jsList    `json:"machineList"`
	MachineSecretKeyMatches bool      `json:"machineSecretKeyMatches"`
	MachineCreate           jsMachine `json:"machineCreate"`
	MachineUpdate           jsMachine `json:"machineUpdate"`
	ScopeCreate             struct {
		FromMachineID string `json:"fromMachineId"`
		ToMachineID   string `json:"toMachineId"`
	} `json:"scopeCreate"`
	ScopeCreateTwice jsError `json:"scopeCreateTwice"`
	ScopeDelete      struct {
		Object  string `json:"object"`
		Deleted bool   `json:"deleted"`
	} `json:"scopeDelete"`
	MachineDelete struct {
		ID      string `json:"id"`
		Deleted bool   `json:"deleted"`
	} `json:"machineDelete"`
	MachineGetDeleted jsError `json:"machineGetDeleted"`
}

// TestOfficialJSSDK drives the emulator through Clerk's unchanged JavaScript
// SDK, @clerk/backend (pinned in testdata/jssdk/package.json), run by Node. A
// recording proxy in front of the emulator keeps every exchange, which is then
// checked against the spec. It is skipped where Node or the installed SDK is
// absent, e.g. in a clone where `npm install` was not run.
func TestOfficialJSSDK(t *testing.T) {
	node := needNode(t)

	// The emulator's clock is the real one: the SDK checks JWT times against
	// Node's clock.
	srv := clerktest.NewServer()
	defer srv.Close()
	recv := srv.CreateMachine("receiver")
	caller := srv.CreateMachine("caller", recv.ID)

	var r jsResults
	exs := runNode(t, node, srv, "m2m.mjs", &r,
		"CALLER_MACHINE_ID="+caller.ID,
		"CALLER_MACHINE_SECRET_KEY="+caller.SecretKey,
		"RECEIVER_MACHINE_ID="+recv.ID,
		"RECEIVER_MACHINE_SECRET_KEY="+recv.SecretKey,
	)

	// Opaque token: created by the caller, scoped to the receiver.
	c := r.Created
	if c.Token == nil || !strings.HasPrefix(*c.Token, "mt_") || *c.Token == c.ID || !strings.HasPrefix(c.ID, "mt_") {
		t.Fatalf("created: got id %q token %v, want distinct mt_ values", c.ID, c.Token)
	}
	if c.Subject != caller.ID || !slices.Equal(c.Scopes, []string{recv.ID}) || c.Revoked || c.Expired {
		t.Errorf("created: got subject %q scopes %v revoked %v expired %v, want %s, [%s], live",
			c.Subject, c.Scopes, c.Revoked, c.Expired, caller.ID, recv.ID)
	}
	if c.Claims["job"] != "sync" || c.Claims["n"] != 1.0 || len(c.Claims) != 2 {
		t.Errorf("created: got claims %v, want {job:sync n:1}", c.Claims)
	}
	if c.Expiration == nil || *c.Expiration-c.CreatedAt != 120_000 {
		t.Errorf("created: got expiration %v for createdAt %d, want createdAt + 120 s", c.Expiration, c.CreatedAt)
	}
	for name, v := range map[string]jsToken{"receiver": r.VerifiedByReceiver, "receiver per call": r.VerifiedByReceiverPerCall, "instance": r.VerifiedByInstance} {
		if v.ID != c.ID || v.Subject != caller.ID || !slices.Equal(v.Scopes, c.Scopes) || v.Claims["job"] != "sync" || v.Revoked || v.Expired || v.Token != nil {
			t.Errorf("verify as %s: got %+v, want token %s live, without its value", name, v, c.ID)
		}
	}
	a := r.AuthenticateRequest
	if !a.IsAuthenticated || a.TokenType != "m2m_token" || a.ID != c.ID || a.Subject != caller.ID ||
		!slices.Equal(a.Scopes, []string{recv.ID}) || a.Claims["job"] != "sync" {
		t.Errorf("authenticateRequest: got %+v, want an authenticated m2m_token %s from %s", a, c.ID, caller.ID)
	}

	// Lists: the revoked token is gone unless revoked=true is asked for.
	for name, l := range map[string]jsList{"as caller": r.List, "as instance": r.ListByInstance} {
		if l.TotalCount != 1 || !slices.Equal(l.IDs, []string{c.ID}) {
			t.Errorf("list %s: got %+v, want [%s]", name, l, c.ID)
		}
	}
	if rv := r.Revoked; rv.ID != c.ID || !rv.Revoked || rv.RevocationReason == nil || *rv.RevocationReason != "done" {
		t.Errorf("revokeToken: got %+v, want %s revoked for \"done\"", rv, c.ID)
	}
	if r.ListRevoked.TotalCount != 1 || !slices.Equal(r.ListRevoked.IDs, []string{c.ID}) {
		t.Errorf("list revoked=true: got %+v, want [%s]", r.ListRevoked, c.ID)
	}

	// Errors: the SDK's ClerkAPIResponseError with Clerk's status and code.
	for _, tc := range []struct {
		name   string
		got    jsError
		status int
		code   string
	}{
		{"verify revoked", r.VerifyRevoked, 404, "resource_not_found"},
		{"verify unknown", r.VerifyUnknown, 404, "resource_not_found"},
		{"verify with an unknown machine key", r.VerifyWrongKey, 401, "machine_secret_key_invalid"},
		{"create with the instance key", r.CreateWithInstanceKey, 401, "machine_secret_key_invalid"},
		{"create a scope twice", r.ScopeCreateTwice, 409, "duplicate_record"},
		{"get a deleted machine", r.MachineGetDeleted, 404, "resource_not_found"},
	} {
		got := tc.got
		if got.Name != "ClerkAPIResponseError" || got.Status == nil || *got.Status != tc.status ||
			!slices.Equal(got.Codes, []string{tc.code}) || got.ClerkTraceID == nil || *got.ClerkTraceID == "" {
			t.Errorf("%s: got %+v, want ClerkAPIResponseError %d [%s] with a trace ID", tc.name, got, tc.status, tc.code)
		}
	}
	if ar := r.AuthenticateRevoked; ar.IsAuthenticated || ar.Reason != "token-invalid" {
		t.Errorf("authenticateRequest with the revoked token: got %+v, want signed out, token-invalid", ar)
	}

	// JWT: created through the API, verified by the SDK itself with /v1/jwks.
	j := r.JWTCreated
	if j.Token == nil || strings.Count(*j.Token, ".") != 2 || !strings.HasPrefix(j.ID, "mt_") || j.Subject != caller.ID ||
		j.Expiration == nil || *j.Expiration-j.CreatedAt != 300_000 {
		t.Fatalf("createToken jwt: got %+v, want an RS256 JWT expiring 300 s after creation", j)
	}
	jv := r.JWTVerified
	if jv.ID != j.ID || jv.Subject != caller.ID || !slices.Equal(jv.Scopes, []string{recv.ID}) || jv.Revoked || jv.Expired ||
		jv.Expiration == nil || *jv.Expiration != *j.Expiration || jv.CreatedAt != j.CreatedAt {
		t.Errorf("verify jwt: got %+v, want %s from %s for [%s] expiring %d", jv, j.ID, caller.ID, recv.ID, *j.Expiration)
	}
	// The SDK's own payload parsing keeps every non-reserved claim: the custom
	// claim and the scopes string.
	if jv.Claims["role"] != "reader" {
		t.Errorf("verify jwt: got claims %v, want role reader among them", jv.Claims)
	}
	if tm := r.JWTTampered; tm.Name != "MachineTokenVerificationError" || tm.Code == nil || *tm.Code != "token-verification-failed" {
		t.Errorf("verify a tampered JWT: got %+v, want MachineTokenVerificationError token-verification-failed", tm)
	}

	// Machines.
	if m := r.MachineGet; m.ID != caller.ID || m.Name != "caller" || m.InstanceID != srv.InstanceID() || !slices.Equal(m.ScopedMachines, []string{recv.ID}) {
		t.Errorf("machines.get: got %+v, want caller scoped to %s", m, recv.ID)
	}
	if r.MachineList.TotalCount != 2 || !slices.Equal(r.MachineList.IDs, []string{caller.ID, recv.ID}) {
		t.Errorf("machines.list: got %+v, want [caller receiver], newest first", r.MachineList)
	}
	if !r.MachineSecretKeyMatches {
		t.Errorf("machines.getSecretKey: got a key other than the caller's")
	}
	if m := r.MachineCreate; !strings.HasPrefix(m.ID, "mch_") || m.Name != "spare" || m.DefaultTokenTTL != 60 || len(m.ScopedMachines) != 0 {
		t.Errorf("machines.create: got %+v, want spare with a 60 s TTL", m)
	}
	if m := r.MachineUpdate; m.ID != r.MachineCreate.ID || m.Name != "spare-2" || m.DefaultTokenTTL != 60 {
		t.Errorf("machines.update: got %+v, want spare-2", m)
	}
	if s := r.ScopeCreate; s.FromMachineID != r.MachineCreate.ID || s.ToMachineID != recv.ID {
		t.Errorf("machines.createScope: got %+v, want %s → %s", s, r.MachineCreate.ID, recv.ID)
	}
	if s := r.ScopeDelete; s.Object != "machine_scope" || !s.Deleted {
		t.Errorf("machines.deleteScope: got %+v, want a deleted machine_scope", s)
	}
	if d := r.MachineDelete; d.ID != r.MachineCreate.ID || !d.Deleted {
		t.Errorf("machines.delete: got %+v, want %s deleted", d, r.MachineCreate.ID)
	}

	// What went over the wire: the SDK sends M2M token calls without /v1, the
	// rest under /v1; every answer conforms to the spec.
	var paths []string
	for _, e := range exs {
		paths = append(paths, e.req.Method+" "+e.req.URL.Path)
	}
	for _, want := range []string{"POST /m2m_tokens", "POST /m2m_tokens/verify", "GET /m2m_tokens", "POST /m2m_tokens/" + c.ID + "/revoke", "GET /v1/jwks", "GET /v1/machines"} {
		if !slices.Contains(paths, want) {
			t.Errorf("requests: got %v, want one %s", paths, want)
		}
	}
	if n := srv.Calls(clerktest.EndpointJWKS); n != 1 {
		t.Errorf("GET /jwks calls: got %d, want 1 (the SDK caches the key set)", n)
	}
	validateAll(t, exs)
}

// needNode returns the path of node, or skips t when Node or the installed
// SDK is absent; with CI set (.ci/run installs both) it fails t instead.
func needNode(t *testing.T) string {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("CI") != "" {
		skip = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node is not on PATH: Clerk's JavaScript SDK cannot run here")
	}
	if _, err := os.Stat(filepath.Join(jsSDKDir, "node_modules", "@clerk", "backend", "package.json")); err != nil {
		skip("@clerk/backend is not installed in %s (run `npm ci --prefix clerktest/conformance/testdata/jssdk`): %v", jsSDKDir, err)
	}
	return node
}

// runNode runs script from jsSDKDir under node against srv, through a
// recording proxy, with CLERK_API_URL (the proxy's origin), CLERK_API_VERSION,
// CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY and env set. It decodes the one JSON
// object the script prints into out, refusing unknown fields, and returns the
// recorded exchanges. Every request the SDK sent must carry the
// Clerk-API-Version that clerkapi sends.
func runNode(t *testing.T, node string, srv *clerktest.Server, script string, out any, env ...string) []exchange {
	t.Helper()
	origin, err := url.Parse(strings.TrimSuffix(srv.URL, "/v1"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(origin)
	proxy.Transport = rec
	front := httptest.NewServer(proxy)
	defer front.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = jsSDKDir
	cmd.Env = append(os.Environ(),
		"CLERK_API_URL="+front.URL,
		"CLERK_API_VERSION=v1",
		"CLERK_SECRET_KEY="+srv.SecretKey,
		"CLERK_PUBLISHABLE_KEY="+srv.PublishableKey,
		"CLERK_TELEMETRY_DISABLED=1",
	)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("node %s did not finish within 60 s; stderr:\n%s", script, stderr.String())
		}
		t.Fatalf("node %s: %v; stderr:\n%s", script, err, stderr.String())
	}
	t.Logf("node %s ran in %v", script, time.Since(start).Round(time.Millisecond))
	printed := stdout.String()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s printed:\n%s", script, printed)
		}
	})
	dec := json.NewDecoder(strings.NewReader(printed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("%s printed no results object: %v; stderr:\n%s", script, err, stderr.String())
	}
	exs := rec.exchanges()
	for _, e := range exs {
		if strings.HasPrefix(strings.TrimPrefix(e.req.URL.Path, "/v1"), emulatorPath) {
			continue // the script's own fetch, not the SDK
		}
		if got := e.req.Header.Get("Clerk-API-Version"); got != clerkapi.APIVersion {
			t.Errorf("%v: @clerk/backend sent Clerk-API-Version %q, want %q as clerkapi does", e, got, clerkapi.APIVersion)
		}
	}
	return exs
}
