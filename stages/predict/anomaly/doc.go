// Package anomaly holds the streaming anomaly detector of the predict
// stage. A Detector follows one series: it learns online from the first
// sample, keeps constant memory (fixed arrays, about 25 KB), costs O(1) per
// update without allocating, and returns a score in [0,1].
//
// Components, each calibrated by Numenta's anomaly likelihood (the tail
// probability of the recent mean raw score under its long-run
// distribution, reported as log(tail)/log(1e-10)), combined by maximum:
//
//   - robust deviation from an exponentially weighted baseline, in units of
//     its mean absolute deviation, at a fast and a slow time scale;
//   - a time-of-week baseline (UpdateAt with Bucket: half hours of weekdays
//     and weekend days) for series with wall-clock timestamps;
//   - an order-2 Markov model of the quantised series, for shapes that stay
//     inside the usual range but break the usual sequence;
//   - the spatial rule: a new extreme beyond the range seen so far;
//   - the deviation-record rules: a deviation from the fast baseline, or
//     from the time-of-week baseline, more than 2.5 times the largest of
//     the recent past (a slowly decaying maximum), i.e. the spatial rule in
//     units of the local noise;
//   - optionally (the stage's setting) a stuck-signal score.
//
// After a detection the detector reports 0 for a rest period, and for a
// longer soft rest only the record rules may alarm again: one alarm per
// incident. With a gate (DefaultParams, `ainka detect`) the output is the
// detector's decision, 1 or 0, and a series whose likelihoods keep
// alarming must earn each next alarm (fatigue); the stage's detectors
// keep graded scores. DefaultParams are chosen by leave-one-category-out
// cross-validation on the NAB development data (see docs/predict.md);
// StageParams are the predict stage's setting.
package anomaly
