package m2motel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/m2mauth/m2mauth/metrics/internal/series"
	"github.com/m2mauth/m2mauth/verifier"
)

// RegisterStats registers v's Stats as observable counters and gauges (see
// the package documentation), read once per collection. Unregister the
// returned Registration when v is closed.
func RegisterStats(v *verifier.Verifier, opts ...Option) (metric.Registration, error) {
	if v == nil {
		return nil, errors.New("m2motel: nil verifier")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	meter := cfg.mp.Meter(scope)
	insts := make([]metric.Observable, len(series.All))
	for i, s := range series.All {
		name, desc := series.Prefix+"."+s.Name, metric.WithDescription(s.Help)
		if s.Kind == series.Counter {
			insts[i], err = meter.Int64ObservableCounter(name, desc)
		} else {
			insts[i], err = meter.Int64ObservableGauge(name, desc)
		}
		if err != nil {
			return nil, err
		}
	}
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := v.Stats()
		for i, s := range series.All {
			for _, val := range s.Read(&st) {
				var attrs []metric.ObserveOption
				if s.Label != "" {
					attrs = append(attrs, metric.WithAttributes(attribute.String(s.Label, val.Label)))
				}
				switch inst := insts[i].(type) {
				case metric.Int64ObservableCounter:
					o.ObserveInt64(inst, int64(val.V), attrs...)
				case metric.Int64ObservableGauge:
					o.ObserveInt64(inst, int64(val.V), attrs...)
				}
			}
		}
		return nil
	}, insts...)
}
