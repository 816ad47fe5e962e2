// Package query reads a fleet's state back from the store the daemons
// push to (package fleet/push): one table across hosts of their engine
// state, losses, anomaly scores, the knobs each holds changed and by
// which policy or tuner, and the tuners' measured gains. It speaks the
// Prometheus HTTP API (/api/v1/query) with MetricsQL where PromQL has no
// word for it (tlast_over_time: when a series was last pushed), so it
// needs VictoriaMetrics or a store that implements MetricsQL.
// `ainka-cli fleet` prints what it returns.
package query
