// Package series is the one list of the metrics that m2mprom and m2motel
// derive from a Verifier's Stats: names, help texts, kinds, the label of
// each and how its values are read. Both modules name their metrics from it,
// so that OpenTelemetry's Prometheus exporter and m2mprom expose the same
// series. It holds no state and is safe for concurrent use.
package series
