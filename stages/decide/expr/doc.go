// Package expr is the condition language of AINKA policies: comparisons,
// and/or/not, arithmetic, durations and functions over the named features
// of a window, their anomaly scores and forecasts.
//
//	runq_latency_p99_us > 2000 for 5s
//	forecast(cpu_busy_pct, 30s) > 90
//	anomaly(blk_latency_p99_us) > 0.95 and not (psi_io_some_pct < 5)
//	cpu>90
//	signals.signals_per_s > 100 and pressure.cpu_starved >= 0.5
//
// PLUGIN.NAME is a plugin's value (a probe plugin's feature, a detector
// plugin's score), looked up by name at evaluation: plugins are known
// only at run time.
//
// A condition is parsed once into a Program: a flat array of nodes that
// is evaluated without allocating. Evaluation is three-valued: a missing
// feature (NaN) makes a comparison Unknown rather than false, so that
// "not (x > 5)" does not fire when x is unknown. A policy fires only on
// True. "for D" holds when its operand has been True, window after window,
// for at least D of event time; the state for it lives in a State that
// belongs to one policy.
//
// Parse errors are *Error values that name the line and column in the
// source text and what was expected.
package expr
