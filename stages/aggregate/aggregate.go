package aggregate

import (
	"errors"
	"fmt"
	"github.com/ainka/ainka/bpf/record"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/decode"
)

// Config sets the windowing.
type Config struct {
	// Interval is the collection interval: the window length. Default
	// settings.DefaultInterval.
	Interval time.Duration
	// Lateness is how long past its end a window stays open for
	// out-of-order events. Default half the interval in whole
	// milliseconds (as traces store it); must be below the interval.
	Lateness time.Duration
	// MaxGapWindows bounds the empty windows emitted for a silent stretch
	// of event time (a paused capture; live, host samples arrive every
	// interval); past it the windows realign on the next event and the gap
	// is counted. It also bounds the memory one batch can need. Default 20.
	MaxGapWindows uint32
	// Disabled and SampleEvery say how each kind was captured (from the
	// trace header or the live policy); windows carry them to features.
	Disabled    [decode.NumKinds]bool
	SampleEvery [decode.NumKinds]uint32
	// Metrics receives ainka_aggregate_windows_total,
	// ainka_aggregate_late_events_total and
	// ainka_aggregate_skipped_windows_total; nil = none.
	Metrics *metrics.Set
	// Probes are the probe plugin kinds to aggregate (nil: none); their
	// records are folded into Window.Probe as their features need.
	Probes *spec.Set
	// ProbeKinds, when set, replaces Probes: the stage takes its current
	// set at each batch (a reload may add or retire kinds).
	ProbeKinds *spec.Registry
	// NoEntities skips the per-task run time and per-device continuity
	// accounting (the tuners' inputs): only for measuring their cost.
	NoEntities bool
	// HostWatermark makes a host sample a watermark: it closes every
	// window that ended at or before its timestamp at once, without the
	// lateness. Live, the source reads the ring dry before it stamps a
	// host sample (source.Live.Run), so every record of those windows is
	// in already; a record that a CPU reserved in the microseconds between
	// the drain and the stamp counts as late in the next window. Off for
	// replays (settings.FromHeader), whose windows stay as recorded.
	HostWatermark bool
}

// ErrConfig is wrapped by configuration errors.
var ErrConfig = errors.New("bad aggregate config")

type cpuState struct {
	last  uint64
	known bool
	idle  bool
	// The task running on the CPU since runFrom (running: not idle), for
	// per-task CPU time; run time still open when a window closes is
	// credited to that window.
	running bool
	runPID  uint32
	runFrom uint64
	runComm [decode.CommLen]byte
}

// SeqGapSectors is how far past the end of a device's previous request the
// next one may start and still count as sequential (128 KiB): completions
// of one stream arrive slightly out of order, random ones almost never
// land this close.
const SeqGapSectors = 256

// devTail is where the last request of a device ended, across windows.
type devTail struct {
	dev uint32
	end uint64
}

// Stage is the aggregate stage's processor: events in, windows out.
type Stage struct {
	interval, lateness, maxGap uint64

	started bool
	maxTs   uint64
	// wm is the newest host sample's timestamp when they are watermarks
	// (Config.HostWatermark): windows ending at or before it close.
	wm            uint64
	hostWatermark bool
	// While the first window is open, records up to the lateness older
	// than the first one extend it backwards instead of counting as late:
	// the first record read is often not the oldest (a host sample stamped
	// at read time, before ring records that waited in the ring).
	firstTs uint64
	inFirst bool
	w       [2]*Window // w[0] is the older open window
	idx     [2]*taskIndex
	cpus    [MaxCPUs]cpuState
	numCPU  int
	// tails is bounded like Window.Devices; a device past it is never
	// sequential. nTails counts the used entries.
	tails      [MaxDevices]devTail
	nTails     int
	socks      sockets // TCP sockets' counters, for per-window deltas
	noEntities bool
	probes     *probePlan
	probeReg   *spec.Registry

	havePrevHost bool
	prevHost     record.HostSample
	prevHostTs   uint64

	// Windows, LateEvents, SkippedWindows and BadTimestamps count what
	// this aggregator did, for metrics and tests.
	Windows        uint64
	LateEvents     uint64
	SkippedWindows uint64
	BadTimestamps  uint64

	mWindows, mLate, mSkipped, mBadTs *metrics.Counter
}

// New returns an aggregator for cfg.
func New(cfg Config) (*Stage, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = settings.DefaultInterval
	}
	if cfg.Lateness <= 0 {
		cfg.Lateness = (cfg.Interval / 2).Truncate(time.Millisecond)
	}
	if cfg.Lateness >= cfg.Interval {
		return nil, fmt.Errorf("%w: lateness %s must be below the interval %s", ErrConfig, cfg.Lateness, cfg.Interval)
	}
	if cfg.MaxGapWindows == 0 {
		cfg.MaxGapWindows = 20
	}
	a := &Stage{
		interval: uint64(cfg.Interval.Nanoseconds()),
		lateness: uint64(cfg.Lateness.Nanoseconds()),
		maxGap:   uint64(cfg.MaxGapWindows),

		noEntities:    cfg.NoEntities,
		probes:        newProbePlan(cfg.Probes),
		probeReg:      cfg.ProbeKinds,
		hostWatermark: cfg.HostWatermark,
	}
	if cfg.Metrics != nil {
		a.mWindows = cfg.Metrics.GetOrCreateCounter("ainka_aggregate_windows_total")
		a.mLate = cfg.Metrics.GetOrCreateCounter("ainka_aggregate_late_events_total")
		a.mSkipped = cfg.Metrics.GetOrCreateCounter("ainka_aggregate_skipped_windows_total")
		a.mBadTs = cfg.Metrics.GetOrCreateCounter("ainka_aggregate_bad_timestamps_total")
	}
	for i := range a.w {
		a.w[i] = &Window{Disabled: cfg.Disabled, SampleEvery: cfg.SampleEvery}
		a.idx[i] = &taskIndex{}
	}
	return a, nil
}

// MaxEventTs bounds event time: CLOCK_MONOTONIC of a host up for 146
// years. A later timestamp is a damaged record; dropping it (counted in
// BadTimestamps) keeps window arithmetic clear of overflow.
const MaxEventTs = 1 << 62

// Process folds in into the open windows and appends every window that
// closed to out.
func (a *Stage) Process(in []decode.Event, out []Window) []Window {
	if a.probeReg != nil {
		a.followProbes(a.probeReg.Load())
	}
	for i := range in {
		e := &in[i]
		if e.TsNs > MaxEventTs {
			a.BadTimestamps++
			if a.mBadTs != nil {
				a.mBadTs.Inc()
			}
			continue
		}
		if !a.started {
			a.start(e.TsNs)
		}
		if e.TsNs > a.maxTs {
			a.maxTs = e.TsNs
			if a.due() {
				out = a.advance(out)
			}
		}
		if a.hostWatermark && e.Kind == decode.KindHostSample && e.TsNs > a.wm {
			a.wm = e.TsNs
			if a.due() {
				out = a.advance(out)
			}
		}
		a.add(e)
	}
	return out
}

// Flush emits the open windows up to the last one that saw events; that
// one ends just after the last event and is marked Flushed.
func (a *Stage) Flush(out []Window) []Window {
	if !a.started {
		return out
	}
	last := -1
	if a.w[1].Events > 0 {
		last = 1
	} else if a.w[0].Events > 0 {
		last = 0
	}
	for i := 0; i <= last; i++ {
		if i == last {
			w := a.w[0]
			w.EndNs = max(min(a.maxTs+1, w.EndNs), w.StartNs+1)
			w.Flushed = true
		}
		out = a.emit(out)
	}
	a.started = false
	return out
}

func (a *Stage) start(ts uint64) {
	s := ts - ts%a.interval
	a.w[0].reset(s, s+a.interval)
	a.w[1].reset(s+a.interval, s+2*a.interval)
	// The first window starts with the input, not before; see add for
	// records older than the first.
	a.w[0].StartNs = ts
	a.firstTs, a.inFirst = ts, true
	a.idx[0].reset()
	a.idx[1].reset()
	a.maxTs, a.wm = ts, 0
	a.started = true
}

// advance closes every window that maxTs has passed by more than the
// lateness, emitting empty windows for quiet stretches up to maxGap.
func (a *Stage) advance(out []Window) []Window {
	if a.maxTs >= a.w[1].EndNs+a.maxGap*a.interval {
		// A long silence: close what is open, skip the gap, realign.
		for a.w[0].Events > 0 || a.w[1].Events > 0 {
			if a.w[0].Events > 0 {
				out = a.emit(out)
			} else {
				a.rotate()
			}
		}
		s := a.maxTs - a.maxTs%a.interval
		skipped := (s - a.w[0].StartNs) / a.interval
		a.SkippedWindows += skipped
		if a.mSkipped != nil {
			a.mSkipped.Add(int(skipped))
		}
		a.w[0].reset(s, s+a.interval)
		a.w[1].reset(s+a.interval, s+2*a.interval)
		a.idx[0].reset()
		a.idx[1].reset()
		return out
	}
	for a.due() {
		out = a.emit(out)
	}
	return out
}

// due reports whether the oldest open window may close: the newest event
// is past its end by the lateness, or a watermark has passed its end.
func (a *Stage) due() bool {
	return a.maxTs >= a.w[0].EndNs+a.lateness || a.w[0].EndNs <= a.wm
}

// emit closes w[0]: finishes its CPU time and host deltas, appends a copy
// to out and recycles it as the newest window.
func (a *Stage) emit(out []Window) []Window {
	w := a.w[0]
	for c := 0; c < a.numCPU; c++ {
		st := &a.cpus[c]
		if st.known && st.last < w.EndNs {
			a.account(c, st.last, w.EndNs, st.idle)
			st.last = w.EndNs
		}
		if st.running && st.runFrom < w.EndNs && !a.noEntities {
			if t := w.task(a.idx[0], st.runPID, &st.runComm); t != nil {
				t.RunNs += w.EndNs - max(st.runFrom, w.StartNs)
			}
			st.runFrom = w.EndNs
		}
	}
	w.NumCPU = a.numCPU
	if w.HaveHost {
		if a.havePrevHost && a.prevHostTs < w.HostTsNs {
			w.HostBase, w.BaseTsNs = a.prevHost, a.prevHostTs
		} else {
			w.HostBase, w.BaseTsNs = w.firstHost, w.firstHostT
		}
		w.HaveBase = w.BaseTsNs < w.HostTsNs
		a.prevHost, a.prevHostTs, a.havePrevHost = w.Host, w.HostTsNs, true
	}
	n := len(out)
	if n < cap(out) {
		out = out[:n+1]
	} else {
		out = append(out, Window{})
	}
	out[n] = *w
	if a.probes != nil {
		out[n].Probe.Set = a.probes.set
	}
	a.Windows++
	a.inFirst = false
	if a.mWindows != nil { // once per window, not per event
		a.mWindows.Inc()
		a.mLate.Add(int(w.Late))
	}
	a.rotate()
	return out
}

// rotate makes w[1] the oldest window and recycles w[0] after it.
func (a *Stage) rotate() {
	end := a.w[1].EndNs
	a.w[0], a.w[1] = a.w[1], a.w[0]
	a.idx[0], a.idx[1] = a.idx[1], a.idx[0]
	a.w[1].reset(end, end+a.interval)
	a.idx[1].reset()
}

// account adds CPU time [from, to) to the open windows it overlaps.
func (a *Stage) account(cpu int, from, to uint64, idle bool) {
	for _, w := range a.w {
		lo, hi := max(from, w.StartNs), min(to, w.EndNs)
		if hi <= lo {
			continue
		}
		if idle {
			w.CPUs[cpu].IdleNs += hi - lo
		} else {
			w.CPUs[cpu].BusyNs += hi - lo
		}
	}
}

func (a *Stage) add(e *decode.Event) {
	wi := 1
	switch {
	case a.inFirst && e.TsNs < a.w[0].StartNs && e.TsNs+a.lateness >= a.firstTs:
		wi = 0
		a.w[0].StartNs = e.TsNs
	case e.TsNs < a.w[0].StartNs:
		wi = 0
		a.w[0].Late++
		a.LateEvents++
	case e.TsNs < a.w[0].EndNs:
		wi = 0
	}
	w, idx := a.w[wi], a.idx[wi]
	w.Events++
	// A record the kernel kept as 1 of n (adaptive sampling) counts n.
	n := e.Weight()
	if e.Kind < decode.NumKinds {
		w.Kinds[e.Kind] += n
	}
	switch e.Kind {
	case decode.KindSyscall:
		w.addSyscall(idx, e, n)
	case decode.KindSchedSwitch:
		a.schedSwitch(w, idx, e)
	case decode.KindSchedWakeup:
		s := e.SchedWakeup()
		if e.Flags&decode.FlagWakeupNew != 0 {
			w.WakeupsNew += n
		}
		if t := w.task(idx, s.TargetPid, &s.TargetComm); t != nil {
			t.Wakeups += n
		}
	case decode.KindPageFault:
		if e.Flags&decode.FlagFaultUser != 0 {
			w.FaultsUser += n
		} else {
			w.FaultsKernel += n
		}
		if t := w.task(idx, e.PID, &e.Comm); t != nil {
			t.Faults += n
		}
	case decode.KindNetRx:
		s := e.NetRx()
		w.NetRxBytes += uint64(s.Len) * n
		if f := w.iface(s.Ifindex); f != nil {
			f.Packets += n
			f.Bytes += uint64(s.Len) * n
		}
	case decode.KindBlockIO:
		if d := w.addBlockIO(idx, e); d != nil && !a.noEntities {
			if s := e.BlockIO(); a.continues(s.Dev, s.Sector, s.NrSector) {
				d.Seq++
			}
		}
	case decode.KindTCP:
		a.tcp(w, e, n)
	case decode.KindHostSample:
		h := e.HostSample()
		if !w.HaveHost || e.TsNs < w.firstHostT {
			w.firstHost, w.firstHostT = *h, e.TsNs
		}
		if !w.HaveHost || e.TsNs >= w.HostTsNs {
			w.Host, w.HostTsNs = *h, e.TsNs
		}
		w.HaveHost = true
	default:
		if a.probes != nil {
			w.addProbe(a.probes, e, n)
		}
	}
}

// addSyscall counts a syscall record of weight n in the window, its
// syscall number and its task.
func (w *Window) addSyscall(idx *taskIndex, e *decode.Event, n uint64) {
	s := e.Syscall()
	w.SyscallLatency.AddN(s.LatencyNs, n)
	isErr := s.Ret < 0 && s.Ret >= -4095
	var errs uint64
	if isErr {
		errs = n
	}
	w.SyscallErrors += errs
	if s.Id < MaxSyscallID {
		st := &w.Syscalls[s.Id]
		st.Count += uint32(n)
		st.LatencyNs += s.LatencyNs * n
		st.Errors += uint32(errs)
	} else {
		w.SyscallsOther += n
	}
	if t := w.task(idx, e.PID, &e.Comm); t != nil {
		t.Syscalls += n
		t.SyscallNs += s.LatencyNs * n
		t.SyscallErrors += errs
	}
}

// addBlockIO counts a block I/O in the window, its device and its task.
// addBlockIO counts a block request; it returns the device's entry (nil
// when the table is full).
func (w *Window) addBlockIO(idx *taskIndex, e *decode.Event) *DeviceStat {
	s := e.BlockIO()
	bytes := uint64(s.NrSector) * 512
	d := w.device(s.Dev)
	switch s.Op {
	case 0: // REQ_OP_READ
		w.BlkReads++
		w.BlkReadBytes += bytes
		if d != nil {
			d.Reads++
			d.ReadBytes += bytes
		}
	case 1: // REQ_OP_WRITE
		w.BlkWrites++
		w.BlkWriteBytes += bytes
		if d != nil {
			d.Writes++
			d.WriteBytes += bytes
		}
	}
	if s.Error != 0 {
		w.BlkErrors++
		if d != nil {
			d.Errors++
		}
	}
	if d != nil {
		d.LatencyNs += s.LatencyNs
	}
	w.BlkLatency.Add(s.LatencyNs)
	if t := w.task(idx, e.PID, &e.Comm); t != nil {
		t.BlkIOs++
	}
	return d
}

func (a *Stage) schedSwitch(w *Window, idx *taskIndex, e *decode.Event) {
	s := e.SchedSwitch()
	prevIdle := e.Flags&decode.FlagPrevIdle != 0 || e.TID == 0
	nextIdle := e.Flags&decode.FlagNextIdle != 0 || s.NextTid == 0
	if s.RunqLatencyNs > 0 {
		w.RunqLatency.Add(s.RunqLatencyNs)
	}
	c := int(e.CPU)
	var run *cpuState // nil: no per-task run time
	if c < MaxCPUs && !a.noEntities {
		run = &a.cpus[c]
	}
	if !prevIdle {
		if t := w.task(idx, e.PID, &e.Comm); t != nil {
			t.SwitchesOut++
			if s.PrevState == 0 { // TASK_RUNNING: preempted, not blocked
				t.Preempted++
			}
			if run != nil && run.running && run.runPID == e.PID && e.TsNs > run.runFrom {
				t.RunNs += e.TsNs - run.runFrom
			}
		}
	}
	if !nextIdle {
		if t := w.task(idx, s.NextPid, &s.NextComm); t != nil {
			t.Runs++
			t.RunqNs += s.RunqLatencyNs
			t.RunqMaxNs = max(t.RunqMaxNs, s.RunqLatencyNs)
		}
	}
	if run != nil && e.TsNs >= run.runFrom {
		run.running, run.runPID, run.runFrom = !nextIdle, s.NextPid, e.TsNs
		run.runComm = s.NextComm
	}
	if c >= MaxCPUs {
		w.CPUsOther++
		return
	}
	if c >= a.numCPU {
		a.numCPU = c + 1
	}
	w.CPUs[c].Switches++
	st := &a.cpus[c]
	if st.known && e.TsNs > st.last {
		a.account(c, st.last, e.TsNs, prevIdle)
	}
	if !st.known || e.TsNs >= st.last {
		st.last, st.idle, st.known = e.TsNs, nextIdle, true
	}
}

// ConfigFrom is the windowing the resolved settings ask for: their
// interval and lateness, and how each kind was captured.
func ConfigFrom(s settings.Settings) Config {
	c := Config{Interval: s.Interval, Lateness: s.Lateness, HostWatermark: s.HostPhase > 0}
	for _, k := range s.Kinds {
		if k.Kind == 0 || int(k.Kind) >= int(decode.NumKinds) {
			continue
		}
		c.Disabled[k.Kind] = !k.Enabled
		c.SampleEvery[k.Kind] = k.SampleEvery
	}
	return c
}

// continues reports whether a request at sector continues dev's previous
// one, and remembers where this one ends.
func (a *Stage) continues(dev uint32, sector uint64, nr uint32) bool {
	for i := 0; i < a.nTails; i++ {
		t := &a.tails[i]
		if t.dev != dev {
			continue
		}
		seq := sector >= t.end && sector-t.end <= SeqGapSectors
		t.end = sector + uint64(nr)
		return seq
	}
	if a.nTails < len(a.tails) {
		a.tails[a.nTails] = devTail{dev: dev, end: sector + uint64(nr)}
		a.nTails++
	}
	return false
}
