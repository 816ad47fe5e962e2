package features

import (
	"math"

	"github.com/ainka/ainka/plugins/probe/spec"
)

// ID names one feature of the vector. The order is part of the golden test
// outputs and of persisted models: append new features at the end.
type ID int

const (
	SyscallsPerS ID = iota
	SyscallLatencyP50Us
	SyscallLatencyP99Us
	SyscallErrorsPerS
	CtxSwitchesPerS
	WakeupsPerS
	RunqLatencyP50Us
	RunqLatencyP99Us
	PgfaultsPerS
	PgfaultsKernelPerS
	NetRxPPS
	NetRxBytesPerS
	BlkIOPS
	BlkReadBytesPerS
	BlkWriteBytesPerS
	BlkLatencyP99Us
	BlkErrorsPerS
	CPUBusyPct
	PSICPUSomePct
	PSIMemSomePct
	PSIMemFullPct
	PSIIOSomePct
	PSIIOFullPct
	MemAvailableMB
	NrRunning
	KernelDecisionsPerS

	// Count is the number of features; keep it last.
	Count
)

var names = [Count]string{
	SyscallsPerS:        "syscalls_per_s",
	SyscallLatencyP50Us: "syscall_latency_p50_us",
	SyscallLatencyP99Us: "syscall_latency_p99_us",
	SyscallErrorsPerS:   "syscall_errors_per_s",
	CtxSwitchesPerS:     "ctx_switches_per_s",
	WakeupsPerS:         "wakeups_per_s",
	RunqLatencyP50Us:    "runq_latency_p50_us",
	RunqLatencyP99Us:    "runq_latency_p99_us",
	PgfaultsPerS:        "pgfaults_per_s",
	PgfaultsKernelPerS:  "pgfaults_kernel_per_s",
	NetRxPPS:            "net_rx_pps",
	NetRxBytesPerS:      "net_rx_bytes_per_s",
	BlkIOPS:             "blk_iops",
	BlkReadBytesPerS:    "blk_read_bytes_per_s",
	BlkWriteBytesPerS:   "blk_write_bytes_per_s",
	BlkLatencyP99Us:     "blk_latency_p99_us",
	BlkErrorsPerS:       "blk_errors_per_s",
	CPUBusyPct:          "cpu_busy_pct",
	PSICPUSomePct:       "psi_cpu_some_pct",
	PSIMemSomePct:       "psi_mem_some_pct",
	PSIMemFullPct:       "psi_mem_full_pct",
	PSIIOSomePct:        "psi_io_some_pct",
	PSIIOFullPct:        "psi_io_full_pct",
	MemAvailableMB:      "mem_available_mb",
	NrRunning:           "nr_running",
	KernelDecisionsPerS: "kernel_decisions_per_s",
}

// String returns the feature's stable snake_case name.
func (id ID) String() string {
	if id < 0 || id >= Count {
		return "unknown"
	}
	return names[id]
}

// Lookup returns the feature with the given name.
func Lookup(name string) (ID, bool) {
	for i, n := range names {
		if n == name {
			return ID(i), true
		}
	}
	return 0, false
}

// Names returns every feature name in ID order.
func Names() []string {
	out := make([]string, Count)
	copy(out, names[:])
	return out
}

// Vector is one window's features. Times are event time (kernel
// CLOCK_MONOTONIC nanoseconds), never the wall clock. A feature that has no
// source in this window (no PSI on this kernel, no host sample in a replayed
// trace) is NaN, so that learners can tell "zero" from "unknown".
type Vector struct {
	StartNs uint64
	EndNs   uint64
	Values  [Count]float64
	// The window's busiest tasks and devices (see MaxTasks): the
	// per-entity features the tuners classify. Only [:NumTasks] and
	// [:NumDevices] are meaningful.
	NumTasks   int
	NumDevices int
	Tasks      [MaxTasks]TaskFeatures
	Devices    [MaxDevices]DeviceFeatures
	// Fsyncs and FsyncUs are the window's fsync and fdatasync calls
	// (scaled up by sampling) and their mean latency: how long tasks
	// that wait for their writes to be durable waited (the writeback
	// tuner's objective). FsyncUs is 0 without fsyncs or syscall events.
	Fsyncs  uint64
	FsyncUs float64
	// The window's network namespaces with TCP traffic ([:NumNetns]).
	NumNetns int
	Netns    [MaxNetns]NetnsFeatures
	// NumProbe features of probe plugin kinds, in the order of the
	// stage's spec.Set FeatureNames ("PLUGIN.FEATURE"); NaN: unknown.
	NumProbe int
	Probe    [spec.MaxFeatures]float64
	// Probes names them (FeatureNames); nil without probe plugins.
	Probes *spec.Set
}

// ProbeNames returns the names of v.Probe[:v.NumProbe].
func (v *Vector) ProbeNames() []string {
	if v.Probes == nil {
		return nil
	}
	return v.Probes.FeatureNames()[:v.NumProbe]
}

// Missing reports whether feature id has no value in this window.
func (v *Vector) Missing(id ID) bool { return math.IsNaN(v.Values[id]) }
