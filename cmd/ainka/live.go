package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/trace"
	"golang.org/x/sys/unix"
)

// liveFlags choose what the kernel records; run and record share them.
type liveFlags struct {
	kinds      string
	sample     kindValues
	minLatency kindValues
	pid        uint
	ringMB     int
	interval   time.Duration
}

// kindValues is a repeatable KIND=VALUE flag.
type kindValues map[record.Kind]string

func (k kindValues) String() string { return "" }

func (k kindValues) Set(v string) error {
	name, val, ok := strings.Cut(v, "=")
	if !ok || val == "" {
		return fmt.Errorf("want KIND=VALUE, got %q", v)
	}
	kind, err := record.ParseKind(name)
	if err != nil {
		return err
	}
	k[kind] = val
	return nil
}

func (f *liveFlags) register(fs *flag.FlagSet) {
	f.sample, f.minLatency = kindValues{}, kindValues{}
	fs.StringVar(&f.kinds, "kinds", "", "comma-separated `KINDS` to record (default: all; host_sample adds /proc samples)")
	fs.Var(f.sample, "sample", "record 1 in N events of a kind: `KIND=N` (repeatable)")
	fs.Var(f.minLatency, "min-latency", "drop events of a kind faster than D: `KIND=D` (syscall, sched_switch, block_io; repeatable)")
	fs.UintVar(&f.pid, "pid", 0, "record only this process (thread group `ID`)")
	fs.IntVar(&f.ringMB, "ring-mb", 16, "size of the eBPF ring buffer in `MiB` (power of two)")
	fs.DurationVar(&f.interval, "interval", settings.DefaultInterval, "collection interval: window length and host sampling period")
}

// config turns the flags into the live source's configuration.
func (f *liveFlags) config(set *metrics.Set) (source.Config, error) {
	var cfg source.Config
	if f.kinds != "" {
		cfg.Kinds = []record.Kind{}
		for _, name := range strings.Split(f.kinds, ",") {
			k, err := record.ParseKind(strings.TrimSpace(name))
			if err != nil {
				return cfg, daemon.Usagef("--kinds: %v", err)
			}
			cfg.Kinds = append(cfg.Kinds, k)
		}
	}
	if len(f.sample) > 0 {
		cfg.SampleEvery = map[record.Kind]uint32{}
		for k, v := range f.sample {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n == 0 {
				return cfg, daemon.Usagef("--sample %s=%s: want a positive integer", k, v)
			}
			cfg.SampleEvery[k] = uint32(n)
		}
	}
	if len(f.minLatency) > 0 {
		cfg.MinLatency = map[record.Kind]time.Duration{}
		for k, v := range f.minLatency {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return cfg, daemon.Usagef("--min-latency %s=%s: want a duration such as 50us", k, v)
			}
			cfg.MinLatency[k] = d
		}
	}
	if f.interval < time.Millisecond || f.interval%time.Millisecond != 0 {
		return cfg, daemon.Usagef("--interval %s: want whole milliseconds, at least 1ms", f.interval)
	}
	if f.ringMB <= 0 || f.ringMB&(f.ringMB-1) != 0 {
		return cfg, daemon.Usagef("--ring-mb %d: want a power of two", f.ringMB)
	}
	cfg.Pid = uint32(f.pid)
	cfg.RingBytes = f.ringMB << 20
	cfg.HostInterval = f.interval
	cfg.Metrics = set
	return cfg, nil
}

// openLive checks for root and starts the capture; what the host lacks is
// a notReadyError (exit 3) with the reason.
func openLive(cfg source.Config) (*source.Live, error) {
	if os.Geteuid() != 0 {
		return nil, daemon.NotReadyError{Err: errors.New("needs root to load eBPF programs (CAP_BPF, CAP_PERFMON): run it as root")}
	}
	l, err := source.NewLive(cfg)
	if err != nil {
		if errors.Is(err, bpf.ErrNotRoot) || errors.Is(err, bpf.ErrNoBTF) || errors.Is(err, bpf.ErrNoKinds) {
			return nil, daemon.NotReadyError{Err: err}
		}
		if errors.Is(err, source.ErrBadPolicy) {
			return nil, daemon.UsageError{Err: err}
		}
		return nil, err
	}
	return l, nil
}

// captureHeader describes a live capture as a trace header.
func captureHeader(l *source.Live, interval time.Duration, note string) trace.Header {
	h := trace.Header{
		SchemaVersion:        decode.SchemaVersion,
		NumCPU:               numCPU(),
		CaptureStart:         time.Now(),
		CollectionIntervalMs: uint32(interval / time.Millisecond),
		Kinds:                source.TraceKinds(l.KernelPolicy(), l.HostSamples()),
		Note:                 note,
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.KernelRelease = unix.ByteSliceToString(u.Release[:])
	}
	h.Hostname, _ = os.Hostname()
	var rt, mono unix.Timespec
	if unix.ClockGettime(unix.CLOCK_REALTIME, &rt) == nil && unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono) == nil {
		h.BootOffsetNs = rt.Nano() - mono.Nano()
	}
	return h
}

// numCPU is the number of possible CPUs (the kernel's cpu numbering), not
// the Go scheduler's affinity-limited view.
func numCPU() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		return 0
	}
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexAny(s, "-,"); i >= 0 {
		s = s[i+1:]
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n + 1
}

func monotonicNs() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return uint64(ts.Nano())
}

// traceStats converts the live counters into a trace stats snapshot.
func traceStats(s source.Stats) trace.Stats {
	st := trace.Stats{TsNs: monotonicNs(), N: len(s)}
	for k := range s {
		st.Kinds[k] = trace.KindStats{Seen: s[k].Seen, Emitted: s[k].Emitted, Lost: s[k].Lost, Filtered: s[k].Filtered}
	}
	return st
}

// kindSummary is one line of per-kind accounting: emitted = decoded + lost
// + dropped, exactly, once a capture has stopped (decoded nil: a recording,
// which writes what it reads).
func kindSummary(s source.Stats, decoded func(record.Kind) uint64) string {
	var parts []string
	for k := record.Kind(1); k < record.NumKinds; k++ {
		ks := s[k]
		if ks.Emitted == 0 && ks.Seen == 0 {
			continue
		}
		if decoded == nil { // recording: what was read is what was written
			parts = append(parts, fmt.Sprintf("%s emitted=%d written=%d lost=%d dropped=%d", k, ks.Emitted, ks.Read-ks.Dropped, ks.Lost, ks.Dropped))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s emitted=%d decoded=%d lost=%d dropped=%d", k, ks.Emitted, decoded(k), ks.Lost, ks.Dropped))
	}
	return strings.Join(parts, "; ")
}
