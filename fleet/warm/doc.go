// Package warm starts a host warm: it exports what a daemon has learned
// (the predict stage's detectors and forecasters, the tuners' regimes and
// best settings) as one versioned, checksummed bundle, and imports such a
// bundle from another host of the same role by merging it into this
// host's model files (`ainka model export|import`, [ml] seed_model).
//
// A bundle carries the facts that make what was learned meaningful: the
// kernel (major.minor: tracepoints and their costs change between
// kernels), the CPU count (per-CPU rates and latencies scale with it) and
// the feature schema (a hash of the feature names in order). An import
// is refused, naming the difference, when any of them differs, and when
// the bundle or a model inside it is damaged (ErrCorrupt) or of another
// format (ErrIncompatible). Merging keeps, per feature, the detector that
// learned from more samples and, per regime and target, the setting this
// host measured itself; see predict.MergeModel and tune.MergeModel.
package warm
