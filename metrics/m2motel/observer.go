package m2motel

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/m2mauth/m2mauth/metrics/internal/series"
	"github.com/m2mauth/m2mauth/verifier"
)

// Attribute keys.
const (
	keyOutcome  = attribute.Key("m2mauth.outcome")
	keyEndpoint = attribute.Key("m2mauth.endpoint")
	keyKind     = attribute.Key("m2mauth.token_kind")
	keyMethod   = attribute.Key("http.request.method")
	keyStatus   = attribute.Key("http.response.status_code")

	// The metrics' attributes: the same as m2mprom's labels.
	metricOutcome  = attribute.Key("outcome")
	metricEndpoint = attribute.Key("endpoint")
	metricKind     = attribute.Key("kind")
)

// An Observer is a verifier.Observer that makes the spans and feeds the
// histograms described in the package documentation.
type Observer struct {
	tracer   trace.Tracer
	upstream metric.Float64Histogram
	miss     metric.Float64Histogram
}

var _ verifier.Observer = (*Observer)(nil)

// NewObserver returns an Observer; give it to verifier.WithObserver.
func NewObserver(opts ...Option) (*Observer, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	meter := cfg.mp.Meter(scope)
	o := &Observer{tracer: cfg.tp.Tracer(scope)}
	if o.upstream, err = meter.Float64Histogram(series.Prefix+"."+series.UpstreamDurationName,
		metric.WithUnit("s"), metric.WithDescription(series.UpstreamDurationHelp),
		metric.WithExplicitBucketBoundaries(series.Buckets...)); err != nil {
		return nil, err
	}
	if o.miss, err = meter.Float64Histogram(series.Prefix+"."+series.MissDurationName,
		metric.WithUnit("s"), metric.WithDescription(series.MissDurationHelp),
		metric.WithExplicitBucketBoundaries(series.Buckets...)); err != nil {
		return nil, err
	}
	return o, nil
}

// StartMiss implements verifier.Observer: it starts the span m2mauth.miss.
func (o *Observer) StartMiss(ctx context.Context) (context.Context, func(verifier.MissEnd)) {
	ctx, span := o.tracer.Start(ctx, "m2mauth.miss", trace.WithSpanKind(trace.SpanKindInternal))
	return ctx, func(e verifier.MissEnd) {
		out := keyOutcome.String(string(e.Outcome))
		o.miss.Record(context.Background(), e.Duration.Seconds(),
			metric.WithAttributes(metricKind.String(string(e.Kind)), metricOutcome.String(string(e.Outcome))))
		span.SetAttributes(out)
		if e.Kind != "" {
			span.SetAttributes(keyKind.String(string(e.Kind)))
		}
		if e.Outcome == verifier.OutcomeUnavailable || e.Outcome == verifier.OutcomeMisconfigured {
			span.SetStatus(codes.Error, string(e.Outcome))
		}
		span.End()
	}
}

// StartCall implements verifier.Observer: it starts the span clerk.verify or
// clerk.jwks.
func (o *Observer) StartCall(ctx context.Context, ep verifier.Endpoint) (context.Context, func(verifier.CallEnd)) {
	method := http.MethodPost
	if ep == verifier.EndpointJWKS {
		method = http.MethodGet
	}
	endpoint := keyEndpoint.String(string(ep))
	ctx, span := o.tracer.Start(ctx, "clerk."+string(ep), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(endpoint, keyMethod.String(method)))
	return ctx, func(e verifier.CallEnd) {
		out := keyOutcome.String(string(e.Outcome))
		o.upstream.Record(context.Background(), e.Duration.Seconds(),
			metric.WithAttributes(metricEndpoint.String(string(ep)), metricKind.String(string(e.Kind)), metricOutcome.String(string(e.Outcome))))
		span.SetAttributes(out)
		if e.Kind != "" {
			span.SetAttributes(keyKind.String(string(e.Kind)))
		}
		if e.Status != 0 {
			span.SetAttributes(keyStatus.Int(e.Status))
		}
		switch e.Outcome {
		case verifier.OutcomeUnavailable, verifier.OutcomeRateLimited, verifier.OutcomeMisconfigured:
			span.SetStatus(codes.Error, string(e.Outcome))
		}
		span.End()
	}
}
