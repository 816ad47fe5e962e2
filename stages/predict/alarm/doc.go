// Package alarm is the host-level alarm: one signal that says "something
// is wrong with this host now", and which features drove it.
//
// The per-feature detectors (package anomaly) each alarm on about one
// clean window in a few hundred; across dozens of features that is an
// alarm every few seconds, and their rest periods hide whether a
// deviation persists. The alarm here looks at the feature values instead:
// by default the deviation every one of the last few windows reached (a
// fault lasts, a burst does not; Params.Sustained), or their mean, is
// compared with a slow robust baseline, and the deviation,
// in units of the feature's own noise, must exceed Factor times the
// largest such deviation the feature has shown before (a record that
// decays, so the alarm recalibrates itself to each host's and each
// feature's noise without a threshold per feature). A quick path
// (Params.Quick) flags a deviation of twice that size after fewer
// windows. The default was
// chosen across the recordings in testdata/faults, leaving one out at a
// time (docs/predict.md, "Ten clean minutes").
package alarm
