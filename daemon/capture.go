package daemon

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/trace"
	"golang.org/x/sys/unix"
)

// errNotRoot is what a live capture says to a user who is not root.
var errNotRoot = NotReadyError{Err: errors.New("needs root to load eBPF programs (CAP_BPF, CAP_PERFMON): run it as root")}

// OpenLive checks for root and starts the capture; what the host lacks is
// an ErrNotReady (exit 3) with the reason.
func OpenLive(cfg source.Config) (*source.Live, error) {
	if os.Geteuid() != 0 {
		return nil, errNotRoot
	}
	l, err := source.NewLive(cfg)
	if err != nil {
		if errors.Is(err, bpf.ErrNotRoot) || errors.Is(err, bpf.ErrNoBTF) || errors.Is(err, bpf.ErrNoKinds) {
			return nil, NotReadyError{Err: err}
		}
		if errors.Is(err, source.ErrBadPolicy) {
			return nil, UsageError{Err: err}
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
		Probes:               traceProbes(l),
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

// kindSummary is one line of per-kind accounting, the built-in kinds'
// then the probe plugins' (always, so that a plugin that saw nothing says
// so): emitted = decoded + lost + dropped, exactly, once a capture has
// stopped (decoded nil: a recording, which writes what it reads).
func kindSummary(s source.Stats, probes []source.ProbeStats, decoded func(kind uint16) uint64) string {
	var parts []string
	part := func(name string, ks source.KindStats, kind uint16) {
		if decoded == nil { // recording: what was read is what was written
			parts = append(parts, fmt.Sprintf("%s emitted=%d written=%d lost=%d dropped=%d", name, ks.Emitted, ks.Read-ks.Dropped, ks.Lost, ks.Dropped))
			return
		}
		parts = append(parts, fmt.Sprintf("%s emitted=%d decoded=%d lost=%d dropped=%d", name, ks.Emitted, decoded(kind), ks.Lost, ks.Dropped))
	}
	for k := record.Kind(1); k < record.NumKinds; k++ {
		if s[k].Emitted != 0 || s[k].Seen != 0 {
			part(k.String(), s[k], uint16(k))
		}
	}
	for _, p := range probes {
		part(p.Name, p.KindStats, p.Kind)
	}
	return strings.Join(parts, "; ")
}
