// Package source is the first stage of the AINKA pipeline: it produces raw
// event records (the layout of bpf/ainka_record.h) in pipeline batches.
//
// Live reads the eBPF ring buffer (events_map) of the object in package bpf.
// It never blocks the kernel: batches go downstream with TrySend and what the
// pipeline cannot take is dropped and counted per kind. The kernel never
// wakes it per event (BPF_RB_NO_WAKEUP below a fill threshold); it polls
// with a short deadline instead. Into the same stream it injects the host
// samples it synthesizes every collection interval (/proc/meminfo,
// /proc/pressure, /proc/loadavg, /proc/stat) and whatever Inject is given
// (the kernel module's decisions).
//
// Replay reads a trace file (package trace) and sends its records with
// blocking sends, so a replay never drops: as fast as possible, or paced by
// event time, any number of times.
//
// Both implement pipeline.Source[[]byte]. Items are sub-slices of the
// batch's Buf, valid until the batch is handed on.
package source
