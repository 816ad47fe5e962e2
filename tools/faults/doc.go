// Package faults scores the predict stage on the kernel-fault benchmark
// (testdata/faults/, recorded by scripts/faults/record.sh): traces of a
// steady background workload with faults injected at known times, and
// their label windows. It reads the labels and the `--tap predict` output
// of `ainka replay`, and reports per fault whether and how fast the
// host-level score alarmed and which features drove the alarm, the false
// alarms on the clean parts, and the NAB score of the host-level score
// (tools/nab's scorer, one row per window). From the `--tap decode`
// output it marks the seconds in which other jobs ran (ReadForeign), so
// that the clean parts can be scored without them as well.
package faults
