package source

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"golang.org/x/sys/unix"
)

// hostComm is the comm of host_sample records: they are about the host,
// not a task (pid, tid and cpu stay 0).
var hostComm = func() (c [record.CommLen]byte) {
	record.SetComm(&c, "host")
	return c
}()

// appendHostSample appends h as a host_sample record stamped tsNs
// (CLOCK_MONOTONIC) to dst; it sets h's header.
func appendHostSample(dst []byte, h *record.HostSample, tsNs uint64) []byte {
	h.Hdr = record.Header{TsNs: tsNs, Kind: uint16(record.KindHostSample), Comm: hostComm}
	return record.Append(dst, h)
}

// hostSampler reads the host's counters from /proc. Files stay open and are
// re-read with pread at offset 0 into one buffer, so sampling allocates
// nothing after the first call.
type hostSampler struct {
	meminfo, loadavg, stat *os.File
	psi                    [3]*os.File // cpu, memory, io
	buf                    []byte
}

func newHostSampler(procDir string) *hostSampler {
	open := func(name string) *os.File {
		f, err := os.Open(procDir + "/" + name)
		if err != nil {
			return nil // absent (no PSI, a container): the flag stays clear
		}
		return f
	}
	return &hostSampler{
		meminfo: open("meminfo"),
		loadavg: open("loadavg"),
		stat:    open("stat"),
		psi:     [3]*os.File{open("pressure/cpu"), open("pressure/memory"), open("pressure/io")},
		buf:     make([]byte, 64<<10),
	}
}

func (s *hostSampler) close() {
	for _, f := range []*os.File{s.meminfo, s.loadavg, s.stat, s.psi[0], s.psi[1], s.psi[2]} {
		if f != nil {
			f.Close()
		}
	}
}

func (s *hostSampler) read(f *os.File) []byte {
	if f == nil {
		return nil
	}
	n, err := f.ReadAt(s.buf, 0)
	if n == 0 && err != nil {
		return nil
	}
	return s.buf[:n]
}

// sample fills h's payload from /proc; fields whose source is missing stay
// zero and their presence bit clear.
func (s *hostSampler) sample(h *record.HostSample) {
	*h = record.HostSample{}
	if b := s.read(s.meminfo); b != nil {
		total, ok1 := procField(b, "MemTotal:")
		avail, ok2 := procField(b, "MemAvailable:")
		if ok1 && ok2 {
			h.MemTotalKb, h.MemAvailableKb = total, avail
			h.Flags |= record.HostHaveMem
		}
	}
	if b := s.read(s.stat); b != nil {
		if busy, total, ok := parseStatCPU(b); ok {
			h.CpuBusyTicks, h.CpuTotalTicks = busy, total
			h.Flags |= record.HostHaveStat
		}
	}
	if b := s.read(s.loadavg); b != nil {
		h.NrRunning = parseLoadavgRunning(b)
	}
	cpuB := s.read(s.psi[0])
	if cpuB != nil {
		h.PsiCpuSomeUs, _ = psiTotal(cpuB, "some")
		if b := s.read(s.psi[1]); b != nil {
			h.PsiMemSomeUs, _ = psiTotal(b, "some")
			h.PsiMemFullUs, _ = psiTotal(b, "full")
		}
		if b := s.read(s.psi[2]); b != nil {
			h.PsiIoSomeUs, _ = psiTotal(b, "some")
			h.PsiIoFullUs, _ = psiTotal(b, "full")
		}
		h.Flags |= record.HostHavePSI
	}
}

// monotonicNs is CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns, read
// through Go's clock: no system call (x/sys/unix's ClockGettime is one,
// not the vDSO), of which the real-time reader made two per ring wait. On
// Linux Go's monotonic clock is CLOCK_MONOTONIC (from the vDSO), so the
// two differ by a constant, taken once by monoCalibrate.
func monotonicNs() uint64 {
	return monoBase + uint64(time.Since(monoEpoch))
}

// monoOf is t (read from Go's clock) on CLOCK_MONOTONIC, without reading
// a clock.
func monoOf(t time.Time) uint64 {
	return monoBase + uint64(t.Sub(monoEpoch))
}

var monoEpoch, monoBase, monoSpread = monoCalibrate()

// monoCalibrate returns a Go time and CLOCK_MONOTONIC read just after it,
// from the closest of a few tries, and how far apart the two reads may
// be. monotonicNs is then ahead of CLOCK_MONOTONIC by at most that, never
// behind: a deadline read from it has passed when it says so.
func monoCalibrate() (time.Time, uint64, time.Duration) {
	var epoch time.Time
	var base uint64
	spread := time.Duration(math.MaxInt64)
	for range 8 {
		t0 := time.Now()
		c := clockMonotonic()
		if d := time.Since(t0); d < spread {
			epoch, base, spread = t0, c, d
		}
	}
	return epoch, base, spread
}

// clockMonotonic reads CLOCK_MONOTONIC by a system call.
func clockMonotonic() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(fmt.Sprintf("clock_gettime(CLOCK_MONOTONIC): %v", err)) // cannot fail on Linux
	}
	return uint64(ts.Sec)*1e9 + uint64(ts.Nsec)
}

// procField returns the first number after key ("MemTotal:") at a line start.
func procField(b []byte, key string) (uint64, bool) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if bytes.HasPrefix(line, []byte(key)) {
			v, _, ok := parseUint(line[len(key):])
			return v, ok
		}
	}
	return 0, false
}

// parseStatCPU reads the aggregate "cpu " line of /proc/stat.
func parseStatCPU(b []byte) (busy, total uint64, ok bool) {
	if !bytes.HasPrefix(b, []byte("cpu ")) {
		return 0, 0, false
	}
	rest := b[4:]
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		n, r, ok := parseUint(rest)
		if !ok {
			return 0, 0, false
		}
		v[i], rest = n, r
	}
	busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return busy, busy + v[3] + v[4], true
}

// parseLoadavgRunning returns the 4th field's numerator ("3/102" -> 3).
func parseLoadavgRunning(b []byte) uint32 {
	for f := 0; f < 3; f++ {
		i := bytes.IndexByte(b, ' ')
		if i < 0 {
			return 0
		}
		b = b[i+1:]
	}
	n, _, _ := parseUint(b)
	return uint32(n)
}

// psiTotal returns total= of the "some" or "full" line.
func psiTotal(b []byte, which string) (uint64, bool) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if !bytes.HasPrefix(line, []byte(which)) {
			continue
		}
		if i := bytes.Index(line, []byte("total=")); i >= 0 {
			v, _, ok := parseUint(line[i+6:])
			return v, ok
		}
	}
	return 0, false
}

// parseUint skips spaces and parses a decimal number, returning the rest.
func parseUint(b []byte) (uint64, []byte, bool) {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	var v uint64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + uint64(b[i]-'0')
	}
	return v, b[i:], i > 0
}
