package m2mprom

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type config struct {
	constLabels prometheus.Labels
	observer    *Observer
}

// An Option configures NewCollector or NewObserver.
type Option func(*config) error

// WithConstLabels adds labels with fixed values to every metric, e.g. to
// tell apart two Verifiers of one process. Never put a secret in them.
//
// Default: none.
func WithConstLabels(l prometheus.Labels) Option {
	return func(c *config) error {
		for k := range l {
			if k == "" {
				return errors.New("m2mprom: empty label name")
			}
		}
		c.constLabels = l
		return nil
	}
}

// WithObserver makes the Collector also collect o's histograms, so that one
// registration exposes everything. For NewCollector only.
//
// Default: none (register the Observer on its own, or go without
// histograms).
func WithObserver(o *Observer) Option {
	return func(c *config) error {
		if o == nil {
			return errors.New("m2mprom: nil observer")
		}
		c.observer = o
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
	return c, nil
}
