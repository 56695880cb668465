package m2motel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/metrics/m2motel"
	"github.com/m2mauth/m2mauth/verifier"
)

// env is an emulated Clerk, a Verifier on it with an Observer and its Stats
// registered, and the SDK's in-memory span recorder and metric reader.
type env struct {
	srv    *clerktest.Server
	caller *clerktest.Machine
	key    string
	v      *verifier.Verifier
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func newEnv(t *testing.T, key func(*clerktest.Server) string) *env {
	t.Helper()
	clk := clerktest.NewClock(time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC))
	srv := clerktest.NewServer(clerktest.WithClock(clk.Now))
	t.Cleanup(srv.Close)
	callee := srv.CreateMachine("callee")
	caller := srv.CreateMachine("caller", callee.ID)

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })

	obs, err := m2motel.NewObserver(m2motel.WithTracerProvider(tp), m2motel.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	k := key(srv)
	v, err := verifier.New(k, verifier.WithBaseURL(srv.URL), verifier.WithClock(clk.Now),
		verifier.WithObserver(obs), verifier.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	reg, err := m2motel.RegisterStats(v, m2motel.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Unregister() })
	return &env{srv: srv, caller: caller, key: k, v: v, spans: spans, reader: reader}
}

func (e *env) mint(t *testing.T, f clerkapi.TokenFormat) *clerkapi.M2MToken {
	t.Helper()
	m, err := e.srv.CreateToken(e.caller.ID, clerkapi.CreateParams{TokenFormat: f})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func secretKey(s *clerktest.Server) string { return s.SecretKey }

// dump renders the ended spans: name, kind, status, parent (by name), and
// every attribute, sorted.
func dump(spans []sdktrace.ReadOnlySpan) string {
	names := map[string]string{}
	for _, s := range spans {
		names[s.SpanContext().SpanID().String()] = s.Name()
	}
	var b strings.Builder
	for _, s := range spans {
		parent := "-"
		if s.Parent().IsValid() {
			parent = names[s.Parent().SpanID().String()]
		}
		var attrs []string
		for _, kv := range s.Attributes() {
			attrs = append(attrs, string(kv.Key)+"="+kv.Value.Emit())
		}
		sort.Strings(attrs)
		fmt.Fprintf(&b, "%s kind=%s status=%s parent=%s %s\n", s.Name(), s.SpanKind(), s.Status().Code, parent, strings.Join(attrs, " "))
	}
	return b.String()
}

// TestSpans: a miss makes one span, with each call to Clerk a child of it; a
// hit makes none; no secret and no identity appears anywhere in the spans.
func TestSpans(t *testing.T) {
	for _, tc := range []struct {
		name   string
		key    func(*clerktest.Server) string
		format clerkapi.TokenFormat
		fault  clerktest.Fault
		want   string
	}{
		{"opaque token", secretKey, clerkapi.FormatOpaque, nil,
			"clerk.verify kind=client status=Unset parent=m2mauth.miss http.request.method=POST http.response.status_code=200 m2mauth.endpoint=verify m2mauth.outcome=ok m2mauth.token_kind=m2m_token\n" +
				"m2mauth.miss kind=internal status=Unset parent=- m2mauth.outcome=ok m2mauth.token_kind=m2m_token\n"},
		{"local JWT", secretKey, clerkapi.FormatJWT, nil,
			"clerk.jwks kind=client status=Unset parent=m2mauth.miss http.request.method=GET http.response.status_code=200 m2mauth.endpoint=jwks m2mauth.outcome=ok\n" +
				"m2mauth.miss kind=internal status=Unset parent=- m2mauth.outcome=ok m2mauth.token_kind=m2m_token\n"},
		{"clerk 503", secretKey, clerkapi.FormatOpaque, clerktest.FailNext(1, 503),
			"clerk.verify kind=client status=Error parent=m2mauth.miss http.request.method=POST http.response.status_code=503 m2mauth.endpoint=verify m2mauth.outcome=unavailable m2mauth.token_kind=m2m_token\n" +
				"m2mauth.miss kind=internal status=Error parent=- m2mauth.outcome=unavailable m2mauth.token_kind=m2m_token\n"},
		{"key refused", func(*clerktest.Server) string { return "ak_" + strings.Repeat("0", 40) }, clerkapi.FormatOpaque, nil,
			"clerk.verify kind=client status=Error parent=m2mauth.miss http.request.method=POST http.response.status_code=401 m2mauth.endpoint=verify m2mauth.outcome=misconfigured m2mauth.token_kind=m2m_token\n" +
				"m2mauth.miss kind=internal status=Error parent=- m2mauth.outcome=misconfigured m2mauth.token_kind=m2m_token\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.key)
			m := e.mint(t, tc.format)
			if tc.fault != nil {
				e.srv.InjectOn(clerktest.EndpointVerify, tc.fault)
			}
			_, err := e.v.Verify(context.Background(), m.Token, "")
			got := dump(e.spans.Ended())
			t.Logf("Verify: %v; spans:\n%s", err, got)
			if got != tc.want {
				t.Errorf("got spans\n%s\nwant\n%s", got, tc.want)
			}
			for _, secret := range []string{m.Token, m.ID, m.Subject, e.key, e.key[len(e.key)-12:], "mt_", "sk_", "ak_", "mch_", "127.0.0.1"} {
				if strings.Contains(got, secret) {
					t.Errorf("a span holds %q", secret)
				}
			}
			if err == nil { // a hit: no new span
				if _, err := e.v.Verify(context.Background(), m.Token, ""); err != nil {
					t.Fatal(err)
				}
				if n := len(e.spans.Ended()); n != 2 {
					t.Errorf("after a hit: got %d spans, want still 2", n)
				}
			}
		})
	}
}

// TestMetrics: Stats as observable instruments and the histograms, after
// a hit, a miss and a refusal.
func TestMetrics(t *testing.T) {
	e := newEnv(t, secretKey)
	ctx := context.Background()
	tok := e.mint(t, clerkapi.FormatOpaque).Token
	const src = "192.0.2.1"
	for range 2 { // a miss (unreserved: src is new; then in good standing), a hit
		if _, err := e.v.Verify(ctx, tok, src); err != nil {
			t.Fatal(err)
		}
	}
	// A miss on the reserved share, refused by Clerk: src loses its good standing.
	if _, err := e.v.Verify(ctx, "mt_"+strings.Repeat("0", 32), src); !errors.Is(err, verifier.ErrInvalidToken) {
		t.Fatalf("got %v, want ErrInvalidToken", err)
	}
	var rm metricdata.ResourceMetrics
	if err := e.reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := points(rm)
	for _, want := range []string{
		"m2mauth.cache_hits=1", "m2mauth.cache_misses=2", "m2mauth.cache_entries=2",
		"m2mauth.upstream_requests{endpoint=verify}=2", "m2mauth.upstream_requests{endpoint=jwks}=0",
		"m2mauth.verify_errors{reason=invalid}=1", "m2mauth.verify_errors{reason=unavailable}=0",
		"m2mauth.breaker_state{state=closed}=1", "m2mauth.breaker_state{state=open}=0",
		"m2mauth.upstream_duration{endpoint=verify,kind=m2m_token,outcome=ok}=1", "m2mauth.upstream_duration{endpoint=verify,kind=m2m_token,outcome=invalid}=1",
		"m2mauth.miss_duration{kind=m2m_token,outcome=ok}=1", "m2mauth.miss_duration{kind=m2m_token,outcome=invalid}=1",
		"m2mauth.admissions{share=reserved}=1", "m2mauth.admissions{share=unreserved}=1",
		"m2mauth.budget_refusals{share=reserved}=0", "m2mauth.budget_refusals{share=unreserved}=0",
		"m2mauth.refills=0", "m2mauth.sources_in_good_standing=0",
	} {
		if !got[want] {
			t.Errorf("missing point %s", want)
		}
	}
	if t.Failed() {
		t.Logf("got points %v", got)
	}
}

// points renders every data point as name{attrs}=value (histograms: count).
func points(rm metricdata.ResourceMetrics) map[string]bool {
	out := map[string]bool{}
	key := func(name string, set attribute.Set) string {
		var kv []string
		for _, a := range set.ToSlice() {
			kv = append(kv, string(a.Key)+"="+a.Value.Emit())
		}
		sort.Strings(kv)
		if len(kv) == 0 {
			return name
		}
		return name + "{" + strings.Join(kv, ",") + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[fmt.Sprintf("%s=%d", key(m.Name, p.Attributes), p.Value)] = true
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[fmt.Sprintf("%s=%d", key(m.Name, p.Attributes), p.Value)] = true
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[fmt.Sprintf("%s=%d", key(m.Name, p.Attributes), p.Count)] = true
				}
			}
		}
	}
	return out
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"nil tracer provider", func() error { _, err := m2motel.NewObserver(m2motel.WithTracerProvider(nil)); return err }()},
		{"nil meter provider", func() error { _, err := m2motel.NewObserver(m2motel.WithMeterProvider(nil)); return err }()},
		{"nil verifier", func() error { _, err := m2motel.RegisterStats(nil); return err }()},
	} {
		if tc.err == nil {
			t.Errorf("%s: got no error, want one", tc.name)
		}
	}
}
