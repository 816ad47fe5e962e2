// Package aggregate is the pipeline's windowing stage: it folds decoded
// events into windows of collection_interval_ms of event time (kernel
// timestamps, never the wall clock) with per-CPU, per-task, per-syscall,
// per-device and per-interface counts and log-linear latency histograms.
//
// Records from different CPUs reach user space slightly out of order, so a
// window [start, end) closes only when an event at or after end+lateness
// has been seen; an event older than the oldest open window is counted in
// it as late (except before the first window closes: the first record
// read is often not the oldest, so older records within the lateness
// extend the first window backwards). A silent stretch of event time
// yields empty windows, up to Config.MaxGapWindows, then the windows
// realign. Given the same input order the output is the same, bit for
// bit, whatever the batch boundaries: that is what makes replays and
// golden tests possible.
//
// Memory is fixed: windows are plain arrays (bounded task, device and
// interface tables whose overflow is counted), recycled between windows,
// so the steady state allocates nothing.
package aggregate
