// Package bench is AINKA's effectiveness suite: it runs named scenarios
// (real workloads on this host: CPU contention, readahead, writeback,
// memory pressure, a lossy TCP link) under several arms — the host
// untouched, Debian's tuned daemon, the ainka daemon with and without the
// shipped policies, and the best static setting of the scenario's knob
// (the oracle) — repeated and interleaved, and reports medians with their
// spread, as a table, JSON and plots.
//
// Every run starts from the same host state: the suite snapshots the
// knobs the scenarios and arms can touch (sysctls, readahead, priorities
// and scheduling policies, cgroups, swap, network namespaces), verifies
// the snapshot after each run, restores what an arm left changed and
// refuses to continue when it cannot.
package bench
