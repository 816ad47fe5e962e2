// Package anomaly holds the streaming anomaly detectors of the predict
// stage. Each Detector follows one series: it learns online from the first
// sample, keeps constant memory, costs O(1) per update without allocating,
// and returns a score in [0,1].
//
// The default detector chains three ideas that each earn points on the
// Numenta Anomaly Benchmark (see docs/predict.md for the figures):
//
//  1. robust deviation: the distance of the sample from an exponentially
//     weighted baseline, in units of an exponentially weighted mean
//     absolute deviation, at a fast and a slow time scale;
//  2. anomaly likelihood (Numenta's post-processing): the tail probability
//     of the recent mean of that raw score under its long-run distribution,
//     which turns "unusually surprising lately" into a calibrated score and
//     catches level shifts and variance changes as well as spikes;
//  3. spike suppression: after a detection the detector stays quiet for a
//     rest period, because one alarm per incident is what an operator (and
//     NAB) wants.
package anomaly
