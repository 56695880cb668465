package m2mprom

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/m2mauth/m2mauth/metrics/internal/series"
	"github.com/m2mauth/m2mauth/verifier"
)

// A Collector is a prometheus.Collector over a Verifier's Stats, read at
// each scrape (see the package documentation for the metrics).
type Collector struct {
	v        *verifier.Verifier
	descs    []*prometheus.Desc // by series.All's index
	observer *Observer          // nil: no histograms
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector of v's metrics.
func NewCollector(v *verifier.Verifier, opts ...Option) (*Collector, error) {
	if v == nil {
		return nil, errors.New("m2mprom: nil verifier")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	c := &Collector{v: v, observer: cfg.observer}
	for _, s := range series.All {
		var labels []string
		if s.Label != "" {
			labels = []string{s.Label}
		}
		c.descs = append(c.descs, prometheus.NewDesc(name(s), s.Help, labels, cfg.constLabels))
	}
	return c, nil
}

// name is s's Prometheus name: m2mauth_…, with _total for a counter.
func name(s series.Series) string {
	n := series.Prefix + "_" + s.Name
	if s.Kind == series.Counter {
		n += "_total"
	}
	return n
}

// Describe sends the descriptions of every metric, the Observer's included.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
	if c.observer != nil {
		c.observer.Describe(ch)
	}
}

// Collect reads the Verifier's Stats once and sends every metric.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.v.Stats()
	for i, s := range series.All {
		kind := prometheus.CounterValue
		if s.Kind == series.Gauge {
			kind = prometheus.GaugeValue
		}
		for _, val := range s.Read(&st) {
			var lv []string
			if s.Label != "" {
				lv = []string{val.Label}
			}
			ch <- prometheus.MustNewConstMetric(c.descs[i], kind, val.V, lv...)
		}
	}
	if c.observer != nil {
		c.observer.Collect(ch)
	}
}
