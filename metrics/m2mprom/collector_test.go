package m2mprom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/metrics/m2mprom"
	"github.com/m2mauth/m2mauth/verifier"
)

// env is an emulated Clerk on a fixed clock, and a Verifier on it with a
// Collector and an Observer registered on their own registry.
type env struct {
	srv    *clerktest.Server
	caller *clerktest.Machine
	v      *verifier.Verifier
	reg    *prometheus.Registry
}

func newEnv(t testing.TB, key func(*clerktest.Server) string, opts ...verifier.Option) *env {
	t.Helper()
	clk := clerktest.NewClock(time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC))
	srv := clerktest.NewServer(clerktest.WithClock(clk.Now))
	t.Cleanup(srv.Close)
	callee := srv.CreateMachine("callee")
	caller := srv.CreateMachine("caller", callee.ID)
	obs, err := m2mprom.NewObserver()
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	base := []verifier.Option{
		verifier.WithBaseURL(srv.URL), verifier.WithClock(clk.Now), verifier.WithObserver(obs),
		verifier.WithHTTPClient(&http.Client{Transport: tr}),
	}
	v, err := verifier.New(key(srv), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	c, err := m2mprom.NewCollector(v, m2mprom.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, caller: caller, v: v, reg: reg}
}

func (e *env) token(t testing.TB) string {
	t.Helper()
	m, err := e.srv.CreateToken(e.caller.ID, clerkapi.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	return m.Token
}

func secretKey(s *clerktest.Server) string { return s.SecretKey }

// TestScriptedRun: hits, misses, refusals and Clerk's errors move the right
// series, and nothing else.
func TestScriptedRun(t *testing.T) {
	e := newEnv(t, secretKey, verifier.WithLimits(verifier.Limits{SourceRate: 0.001, SourceBurst: 1}))
	ctx := context.Background()
	valid, other := e.token(t), e.token(t)
	unknown := "mt_" + strings.Repeat("0", 32)

	for range 3 { // one miss, two hits
		if _, err := e.v.Verify(ctx, valid, ""); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // one miss refused by Clerk, one negative hit
		if _, err := e.v.Verify(ctx, unknown, ""); !errors.Is(err, verifier.ErrInvalidToken) {
			t.Fatalf("unknown token: got %v, want ErrInvalidToken", err)
		}
	}
	if _, err := e.v.Verify(ctx, "mt_", ""); !errors.Is(err, verifier.ErrInvalidToken) { // refused locally: no lookup
		t.Fatalf("malformed token: got %v, want ErrInvalidToken", err)
	}
	e.srv.InjectOn(clerktest.EndpointVerify, clerktest.FailNext(1, 503))
	if _, err := e.v.Verify(ctx, e.token(t), ""); !errors.Is(err, verifier.ErrUnavailable) {
		t.Fatalf("clerk 503: got %v, want ErrUnavailable", err)
	}
	if _, err := e.v.Verify(ctx, other, "10.0.0.1"); err != nil { // spends the source's budget
		t.Fatal(err)
	}
	if _, err := e.v.Verify(ctx, e.token(t), "10.0.0.1"); !errors.Is(err, verifier.ErrRateLimited) {
		t.Fatalf("over budget: got %v, want ErrRateLimited", err)
	}

	const want = `
# HELP m2mauth_cache_hits_total Verifications answered from a positive cache entry.
# TYPE m2mauth_cache_hits_total counter
m2mauth_cache_hits_total 2
# HELP m2mauth_cache_negative_hits_total Verifications answered from a negative cache entry (a token Clerk refused).
# TYPE m2mauth_cache_negative_hits_total counter
m2mauth_cache_negative_hits_total 1
# HELP m2mauth_cache_misses_total Verifications that found no live cache entry.
# TYPE m2mauth_cache_misses_total counter
m2mauth_cache_misses_total 5
# HELP m2mauth_upstream_requests_total HTTP requests to Clerk, retries and readiness probes included, by endpoint.
# TYPE m2mauth_upstream_requests_total counter
m2mauth_upstream_requests_total{endpoint="jwks"} 0
m2mauth_upstream_requests_total{endpoint="verify"} 4
# HELP m2mauth_verify_errors_total Errors returned by Verify, by reason: invalid, unavailable, misconfigured, rate_limited (a source over its budget), canceled.
# TYPE m2mauth_verify_errors_total counter
m2mauth_verify_errors_total{reason="canceled"} 0
m2mauth_verify_errors_total{reason="invalid"} 3
m2mauth_verify_errors_total{reason="misconfigured"} 0
m2mauth_verify_errors_total{reason="rate_limited"} 1
m2mauth_verify_errors_total{reason="unavailable"} 1
# HELP m2mauth_admission_refusals_total Misses refused without a call to Clerk, by reason: backoff (Clerk asked to wait), overload, breaker, source_budget.
# TYPE m2mauth_admission_refusals_total counter
m2mauth_admission_refusals_total{reason="backoff"} 0
m2mauth_admission_refusals_total{reason="breaker"} 0
m2mauth_admission_refusals_total{reason="overload"} 0
m2mauth_admission_refusals_total{reason="source_budget"} 1
# HELP m2mauth_cache_entries Entries in the cache.
# TYPE m2mauth_cache_entries gauge
m2mauth_cache_entries 3
`
	names := []string{"m2mauth_cache_hits_total", "m2mauth_cache_negative_hits_total", "m2mauth_cache_misses_total",
		"m2mauth_upstream_requests_total", "m2mauth_verify_errors_total", "m2mauth_admission_refusals_total", "m2mauth_cache_entries"}
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	got := histogramCounts(t, e.reg)
	wantH := "miss_duration{m2m_token,invalid}=1 miss_duration{m2m_token,ok}=2 miss_duration{m2m_token,rate_limited}=1 miss_duration{m2m_token,unavailable}=1 " +
		"upstream_duration{verify,m2m_token,invalid}=1 upstream_duration{verify,m2m_token,ok}=2 upstream_duration{verify,m2m_token,unavailable}=1"
	if got != wantH {
		t.Errorf("histogram counts:\ngot  %s\nwant %s", got, wantH)
	}
	if n, err := testutil.GatherAndLint(e.reg); err != nil || len(n) > 0 {
		t.Errorf("lint: %v %v", n, err)
	}
}

// histogramCounts returns the sample counts of the histograms, as
// "name{label values}=count" sorted.
func histogramCounts(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		name := strings.TrimSuffix(strings.TrimPrefix(mf.GetName(), "m2mauth_"), "_seconds")
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if h == nil {
				continue
			}
			var lv []string
			for _, l := range m.GetLabel() {
				lv = append(lv, l.GetValue())
			}
			out = append(out, fmt.Sprintf("%s{%s}=%d", name, strings.Join(lv, ","), h.GetSampleCount()))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestMisconfiguredAndJWKS: a refused key moves the misconfigured series;
// a local JWT moves jwks and local_jwt_checks.
func TestMisconfiguredAndJWKS(t *testing.T) {
	for _, tc := range []struct {
		name  string
		key   func(*clerktest.Server) string
		jwt   bool
		want  string // histogram counts
		names []string
		text  string
	}{
		{"refused key", func(*clerktest.Server) string { return "ak_" + strings.Repeat("0", 40) }, false,
			"miss_duration{m2m_token,misconfigured}=1 upstream_duration{verify,m2m_token,misconfigured}=1",
			[]string{"m2mauth_verify_errors_total"}, `
# HELP m2mauth_verify_errors_total Errors returned by Verify, by reason: invalid, unavailable, misconfigured, rate_limited (a source over its budget), canceled.
# TYPE m2mauth_verify_errors_total counter
m2mauth_verify_errors_total{reason="canceled"} 0
m2mauth_verify_errors_total{reason="invalid"} 0
m2mauth_verify_errors_total{reason="misconfigured"} 1
m2mauth_verify_errors_total{reason="rate_limited"} 0
m2mauth_verify_errors_total{reason="unavailable"} 0
`},
		{"local JWT", secretKey, true,
			"miss_duration{m2m_token,ok}=1 upstream_duration{jwks,,ok}=1",
			[]string{"m2mauth_local_jwt_checks_total", "m2mauth_upstream_requests_total"}, `
# HELP m2mauth_local_jwt_checks_total JWT-format tokens verified locally against the JWKS (one per cold token).
# TYPE m2mauth_local_jwt_checks_total counter
m2mauth_local_jwt_checks_total 1
# HELP m2mauth_upstream_requests_total HTTP requests to Clerk, retries and readiness probes included, by endpoint.
# TYPE m2mauth_upstream_requests_total counter
m2mauth_upstream_requests_total{endpoint="jwks"} 1
m2mauth_upstream_requests_total{endpoint="verify"} 0
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.key)
			p := clerkapi.CreateParams{}
			if tc.jwt {
				p.TokenFormat = clerkapi.FormatJWT
			}
			m, err := e.srv.CreateToken(e.caller.ID, p)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = e.v.Verify(context.Background(), m.Token, "")
			if err := testutil.GatherAndCompare(e.reg, strings.NewReader(tc.text), tc.names...); err != nil {
				t.Error(err)
			}
			if got := histogramCounts(t, e.reg); got != tc.want {
				t.Errorf("histogram counts: got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestOptions: bad options and arguments are refused at construction.
func TestOptions(t *testing.T) {
	v, err := verifier.New("sk_test_" + strings.Repeat("0", 40))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	obs, _ := m2mprom.NewObserver()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"nil verifier", func() error { _, err := m2mprom.NewCollector(nil); return err }()},
		{"nil observer", func() error { _, err := m2mprom.NewCollector(v, m2mprom.WithObserver(nil)); return err }()},
		{"empty label", func() error {
			_, err := m2mprom.NewCollector(v, m2mprom.WithConstLabels(prometheus.Labels{"": "x"}))
			return err
		}()},
		{"observer given an observer", func() error { _, err := m2mprom.NewObserver(m2mprom.WithObserver(obs)); return err }()},
	} {
		if tc.err == nil {
			t.Errorf("%s: got no error, want one", tc.name)
		}
	}
}

// TestAdmissionSeries: the overall budget's calls by share — admitted and
// refused, for a source in good standing (reserved) and for others
// (unreserved) — and the sources in good standing.
func TestAdmissionSeries(t *testing.T) {
	// A budget of 2 calls on a frozen clock: one reserved, one unreserved.
	e := newEnv(t, secretKey, verifier.WithLimits(verifier.Limits{CallRate: 0.001, CallBurst: 2}))
	ctx := context.Background()
	a, b := "192.0.2.1", "192.0.2.2"
	if _, err := e.v.Verify(ctx, e.token(t), a); err != nil { // unreserved: a is new; then in good standing
		t.Fatal(err)
	}
	if _, err := e.v.Verify(ctx, e.token(t), a); err != nil { // reserved
		t.Fatal(err)
	}
	if _, err := e.v.Verify(ctx, e.token(t), a); !errors.Is(err, verifier.ErrUnavailable) { // the reserved share spent
		t.Fatalf("a's third token: got %v, want ErrUnavailable", err)
	}
	if _, err := e.v.Verify(ctx, "mt_"+strings.Repeat("0", 32), b); !errors.Is(err, verifier.ErrUnavailable) { // b has no turn yet
		t.Fatalf("b's junk: got %v, want ErrUnavailable", err)
	}
	const want = `
# HELP m2mauth_admissions_total Calls to Clerk's verify endpoint admitted by the overall budget, by share: reserved (sources in good standing, refills, refreshes), unreserved (any other source).
# TYPE m2mauth_admissions_total counter
m2mauth_admissions_total{share="reserved"} 1
m2mauth_admissions_total{share="unreserved"} 1
# HELP m2mauth_budget_refusals_total Calls refused by the overall budget without a call, by the share they were entitled to: reserved, unreserved (not the source's turn).
# TYPE m2mauth_budget_refusals_total counter
m2mauth_budget_refusals_total{share="reserved"} 1
m2mauth_budget_refusals_total{share="unreserved"} 1
# HELP m2mauth_refills_total Calls admitted for tokens that were valid before the shared cache's re-subscription, charged to no source.
# TYPE m2mauth_refills_total counter
m2mauth_refills_total 0
# HELP m2mauth_sources_in_good_standing Sources in good standing: a miss of theirs ended with a valid token recently.
# TYPE m2mauth_sources_in_good_standing gauge
m2mauth_sources_in_good_standing 1
# HELP m2mauth_admission_refusals_total Misses refused without a call to Clerk, by reason: backoff (Clerk asked to wait), overload, breaker, source_budget.
# TYPE m2mauth_admission_refusals_total counter
m2mauth_admission_refusals_total{reason="backoff"} 0
m2mauth_admission_refusals_total{reason="breaker"} 0
m2mauth_admission_refusals_total{reason="overload"} 2
m2mauth_admission_refusals_total{reason="source_budget"} 0
`
	names := []string{"m2mauth_admissions_total", "m2mauth_budget_refusals_total", "m2mauth_refills_total",
		"m2mauth_sources_in_good_standing", "m2mauth_admission_refusals_total"}
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}
