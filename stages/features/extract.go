package features

import (
	"cmp"
	"math"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decode"
)

// Stage is the features stage's processor: one Vector per window. It
// keeps no state: every feature is computed from its window alone (PSI
// deltas included, since windows carry their base host sample; per-entity
// features from the window's task and device tables).
type Stage struct {
	probes *spec.Set
}

// New returns the features processor.
func New() *Stage { return &Stage{} }

// Process appends one vector per window of in to out.
func (x *Stage) Process(in []aggregate.Window, out []Vector) []Vector {
	for i := range in {
		n := len(out)
		if n < cap(out) {
			out = out[:n+1]
		} else {
			out = append(out, Vector{})
		}
		Compute(&in[i], &out[n])
		// The window's own kinds (aggregate sets them; a reload may have
		// changed them), else the stage's.
		if set := cmp.Or(in[i].Probe.Set, x.probes); set != nil {
			ComputeProbes(set, &in[i], &out[n])
		}
	}
	return out
}

var nan = math.NaN()

// Compute fills v from window w. Rates are per second of event time and
// scaled up by 1-in-N sampling; a feature whose source was not captured,
// or had no sample in the window, is NaN.
func Compute(w *aggregate.Window, v *Vector) {
	v.StartNs, v.EndNs = w.StartNs, w.EndNs
	secs := float64(w.DurationNs()) / 1e9
	rate := func(k decode.Kind, n uint64) float64 {
		if !w.Enabled(k) || secs <= 0 {
			return nan
		}
		return float64(n) * w.Scale(k) / secs
	}
	quantUs := func(k decode.Kind, h *aggregate.Hist, q float64) float64 {
		if !w.Enabled(k) {
			return nan
		}
		return h.Quantile(q) / 1e3 // NaN when empty
	}
	f := &v.Values
	f[SyscallsPerS] = rate(decode.KindSyscall, w.Kinds[decode.KindSyscall])
	f[SyscallLatencyP50Us] = quantUs(decode.KindSyscall, &w.SyscallLatency, 0.50)
	f[SyscallLatencyP99Us] = quantUs(decode.KindSyscall, &w.SyscallLatency, 0.99)
	f[SyscallErrorsPerS] = rate(decode.KindSyscall, w.SyscallErrors)
	f[CtxSwitchesPerS] = rate(decode.KindSchedSwitch, w.Kinds[decode.KindSchedSwitch])
	f[WakeupsPerS] = rate(decode.KindSchedWakeup, w.Kinds[decode.KindSchedWakeup])
	f[RunqLatencyP50Us] = quantUs(decode.KindSchedSwitch, &w.RunqLatency, 0.50)
	f[RunqLatencyP99Us] = quantUs(decode.KindSchedSwitch, &w.RunqLatency, 0.99)
	f[PgfaultsPerS] = rate(decode.KindPageFault, w.FaultsUser+w.FaultsKernel)
	f[PgfaultsKernelPerS] = rate(decode.KindPageFault, w.FaultsKernel)
	f[NetRxPPS] = rate(decode.KindNetRx, w.Kinds[decode.KindNetRx])
	f[NetRxBytesPerS] = rate(decode.KindNetRx, w.NetRxBytes)
	f[BlkIOPS] = rate(decode.KindBlockIO, w.Kinds[decode.KindBlockIO])
	f[BlkReadBytesPerS] = rate(decode.KindBlockIO, w.BlkReadBytes)
	f[BlkWriteBytesPerS] = rate(decode.KindBlockIO, w.BlkWriteBytes)
	f[BlkLatencyP99Us] = quantUs(decode.KindBlockIO, &w.BlkLatency, 0.99)
	f[BlkErrorsPerS] = rate(decode.KindBlockIO, w.BlkErrors)
	f[CPUBusyPct] = cpuBusyPct(w)
	f[PSICPUSomePct] = psiPct(w, func(h *record.HostSample) uint64 { return h.PsiCpuSomeUs })
	f[PSIMemSomePct] = psiPct(w, func(h *record.HostSample) uint64 { return h.PsiMemSomeUs })
	f[PSIMemFullPct] = psiPct(w, func(h *record.HostSample) uint64 { return h.PsiMemFullUs })
	f[PSIIOSomePct] = psiPct(w, func(h *record.HostSample) uint64 { return h.PsiIoSomeUs })
	f[PSIIOFullPct] = psiPct(w, func(h *record.HostSample) uint64 { return h.PsiIoFullUs })
	f[MemAvailableMB], f[NrRunning] = nan, nan
	if w.HaveHost {
		if w.Host.Flags&decode.HostHaveMem != 0 {
			f[MemAvailableMB] = float64(w.Host.MemAvailableKb) / 1024
		}
		f[NrRunning] = float64(w.Host.NrRunning)
	}
	f[KernelDecisionsPerS] = rate(decode.KindKernelDecision, w.Kinds[decode.KindKernelDecision])
	entities(w, v, secs)
	fsyncs(w, v)
	netnsFeatures(w, v, secs)
}

// fsyncs sums the durable-write syscalls of the window.
func fsyncs(w *aggregate.Window, v *Vector) {
	v.Fsyncs, v.FsyncUs = 0, 0
	if !w.Enabled(decode.KindSyscall) {
		return
	}
	var n, ns uint64
	for _, id := range fsyncIDs {
		if id < aggregate.MaxSyscallID {
			n += uint64(w.Syscalls[id].Count)
			ns += w.Syscalls[id].LatencyNs
		}
	}
	if n > 0 {
		v.Fsyncs, v.FsyncUs = n, float64(ns)/1e3/float64(n)
	}
}

// fsyncIDs are this architecture's fsync and fdatasync numbers.
var fsyncIDs = [...]int{unix.SYS_FSYNC, unix.SYS_FDATASYNC}

// cpuBusyPct prefers exact sched_switch time (all CPUs that switched at
// least once); with sched_switch off or sampled it falls back on the
// /proc/stat ticks of the host samples.
func cpuBusyPct(w *aggregate.Window) float64 {
	if w.Enabled(decode.KindSchedSwitch) && w.Scale(decode.KindSchedSwitch) == 1 {
		var busy, total uint64
		for c := 0; c < w.NumCPU; c++ {
			busy += w.CPUs[c].BusyNs
			total += w.CPUs[c].BusyNs + w.CPUs[c].IdleNs
		}
		if total > 0 {
			return 100 * float64(busy) / float64(total)
		}
	}
	if w.HaveBase && w.Host.Flags&w.HostBase.Flags&decode.HostHaveStat != 0 && w.Host.CpuTotalTicks > w.HostBase.CpuTotalTicks {
		busy := float64(w.Host.CpuBusyTicks) - float64(w.HostBase.CpuBusyTicks)
		return 100 * max(busy, 0) / float64(w.Host.CpuTotalTicks-w.HostBase.CpuTotalTicks)
	}
	return nan
}

// psiPct is the share of time (percent) that the PSI total grew between
// the window's base sample and its last one.
func psiPct(w *aggregate.Window, total func(*record.HostSample) uint64) float64 {
	if !w.HaveBase || w.Host.Flags&w.HostBase.Flags&decode.HostHavePSI == 0 {
		return nan
	}
	cur, base := total(&w.Host), total(&w.HostBase)
	if cur < base {
		return nan // counter reset: no honest value
	}
	// The sample's timestamp is taken after /proc/pressure is read, so the
	// two readings' intervals differ by the scheduling jitter between read
	// and clock_gettime (up to a millisecond on a loaded host, about 1% of a
	// 100 ms window): a fully stalled window can measure a little over 100%.
	// No share of time exceeds the time.
	return min(float64(cur-base)*1e5/float64(w.HostTsNs-w.BaseTsNs), 100)
}
