package m2motel

import (
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// scope is the instrumentation scope of the tracer and the meter.
const scope = "github.com/m2mauth/m2mauth/metrics/m2motel"

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// An Option configures NewObserver or RegisterStats.
type Option func(*config) error

// WithTracerProvider sets where spans go.
//
// Default: otel.GetTracerProvider(), as it is when NewObserver is called.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) error {
		if tp == nil {
			return errors.New("m2motel: nil tracer provider")
		}
		c.tp = tp
		return nil
	}
}

// WithMeterProvider sets where metrics go.
//
// Default: otel.GetMeterProvider(), as it is when NewObserver or
// RegisterStats is called.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) error {
		if mp == nil {
			return errors.New("m2motel: nil meter provider")
		}
		c.mp = mp
		return nil
	}
}

func newConfig(opts []Option) (config, error) {
	var c config
	for _, o := range opts {
		if err := o(&c); err != nil {
			return c, err
		}
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	return c, nil
}
