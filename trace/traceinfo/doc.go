// Package traceinfo prints what a trace file holds (ainka trace info): its
// header, the records of each kind and the kernel's counters, reading the
// whole file once so that a damaged one shows what comes before the damage.
package traceinfo
