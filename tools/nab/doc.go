// Package nab scores streaming anomaly detectors the way the Numenta Anomaly
// Benchmark does (NAB v1.1, nab/sweeper.py and nab/runner.py), so that the
// project can choose and tune its detectors against a published yardstick.
//
// The rules, reproduced exactly:
//   - the first min(floor(0.15*rows), 750) rows of each file are probationary
//     and not scored;
//   - a row at or above the threshold is a detection; inside a labelled
//     window the earliest detection earns tpWeight*S(p)/S(-1), where
//     S(p) = 2*sigmoid(-5p)-1 and p = -(right-i+1)/width; later detections
//     in the same window earn nothing more and cost nothing;
//   - a window without detection costs fnWeight;
//   - a detection outside every window costs fpWeight*S(p) with
//     p = |right_prev - i|/(width_prev-1) after a window (so an alarm just
//     after a window is almost free) and the full fpWeight before the first
//     window;
//   - one threshold per profile is chosen for the whole corpus, the one with
//     the highest total raw score;
//   - the normalised score is 100*(raw-null)/(perfect-null), where null is
//     the raw score of a detector that never fires (-fnWeight per window) and
//     perfect is tpWeight times the number of labelled anomalies (NAB counts
//     labels, not windows, so a few merged windows make 100 unreachable).
package nab
