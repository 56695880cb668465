package m2mprom

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/m2mauth/m2mauth/metrics/internal/series"
	"github.com/m2mauth/m2mauth/verifier"
)

// An Observer is a verifier.Observer that feeds the histograms
// m2mauth_upstream_duration_seconds and m2mauth_miss_duration_seconds, and a
// prometheus.Collector of them. It leaves contexts unchanged.
type Observer struct {
	upstream *prometheus.HistogramVec // endpoint, kind, outcome
	miss     *prometheus.HistogramVec // kind, outcome
}

var (
	_ verifier.Observer    = (*Observer)(nil)
	_ prometheus.Collector = (*Observer)(nil)
)

// NewObserver returns an Observer; give it to verifier.WithObserver, and to
// NewCollector's WithObserver or a registry. WithObserver is not an option
// of NewObserver.
func NewObserver(opts ...Option) (*Observer, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.observer != nil {
		return nil, errors.New("m2mprom: WithObserver is an option of NewCollector")
	}
	return &Observer{
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        series.Prefix + "_" + series.UpstreamDurationName + "_seconds",
			Help:        series.UpstreamDurationHelp,
			Buckets:     series.Buckets,
			ConstLabels: cfg.constLabels,
		}, []string{"endpoint", "kind", "outcome"}),
		miss: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        series.Prefix + "_" + series.MissDurationName + "_seconds",
			Help:        series.MissDurationHelp,
			Buckets:     series.Buckets,
			ConstLabels: cfg.constLabels,
		}, []string{"kind", "outcome"}),
	}, nil
}

// StartMiss implements verifier.Observer.
func (o *Observer) StartMiss(ctx context.Context) (context.Context, func(verifier.MissEnd)) {
	return ctx, o.endMiss
}

func (o *Observer) endMiss(e verifier.MissEnd) {
	o.miss.WithLabelValues(string(e.Kind), string(e.Outcome)).Observe(e.Duration.Seconds())
}

// StartCall implements verifier.Observer.
func (o *Observer) StartCall(ctx context.Context, ep verifier.Endpoint) (context.Context, func(verifier.CallEnd)) {
	return ctx, func(e verifier.CallEnd) {
		o.upstream.WithLabelValues(string(ep), string(e.Kind), string(e.Outcome)).Observe(e.Duration.Seconds())
	}
}

// Describe implements prometheus.Collector.
func (o *Observer) Describe(ch chan<- *prometheus.Desc) {
	o.upstream.Describe(ch)
	o.miss.Describe(ch)
}

// Collect implements prometheus.Collector.
func (o *Observer) Collect(ch chan<- prometheus.Metric) {
	o.upstream.Collect(ch)
	o.miss.Collect(ch)
}
