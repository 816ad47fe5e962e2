package source

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/pipeline"
)

func writeProc(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHostSampleParsing(t *testing.T) {
	dir := writeProc(t, map[string]string{
		"meminfo":         "MemTotal:        8000000 kB\nMemFree:  100 kB\nMemAvailable:    5000000 kB\n",
		"stat":            "cpu  100 2 30 1000 40 5 6 7 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n",
		"loadavg":         "1.72 1.53 0.77 3/102 21825\n",
		"pressure/cpu":    "some avg10=7.12 avg60=12.08 avg300=15.37 total=102234417\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
		"pressure/memory": "some avg10=0.00 avg60=0.00 avg300=0.00 total=11\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=22\n",
		"pressure/io":     "some avg10=0.00 avg60=0.00 avg300=0.00 total=33\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=44\n",
	})
	s := newHostSampler(dir)
	defer s.close()
	var h record.HostSample
	s.sample(&h)
	want := record.HostSample{MemTotalKb: 8000000, MemAvailableKb: 5000000, PsiCpuSomeUs: 102234417,
		PsiMemSomeUs: 11, PsiMemFullUs: 22, PsiIoSomeUs: 33, PsiIoFullUs: 44, NrRunning: 3,
		Flags:        record.HostHavePSI | record.HostHaveMem | record.HostHaveStat,
		CpuBusyTicks: 100 + 2 + 30 + 5 + 6 + 7, CpuTotalTicks: 100 + 2 + 30 + 5 + 6 + 7 + 1000 + 40}
	if h != want {
		t.Errorf("sample\n got %+v\nwant %+v", h, want)
	}
	if n := testing.AllocsPerRun(10, func() { s.sample(&h) }); n != 0 {
		t.Errorf("sampling allocates %v times", n)
	}
	rec := appendHostSample(nil, &h, 12345)
	if len(rec) != record.KindHostSample.RecordSize() || record.RecordKind(rec) != record.KindHostSample {
		t.Fatalf("record of %d bytes, kind %s", len(rec), record.RecordKind(rec))
	}
	le := binary.LittleEndian
	if le.Uint64(rec) != 12345 || le.Uint64(rec[40:]) != 8000000 || le.Uint32(rec[96:]) != 3 || le.Uint64(rec[112:]) != want.CpuTotalTicks ||
		string(rec[24:29]) != "host\x00" {
		t.Errorf("record fields misplaced: % x", rec)
	}
}

func TestHostSampleMissingFiles(t *testing.T) {
	dir := writeProc(t, map[string]string{"meminfo": "garbage\n", "stat": "intr 1 2 3\n", "loadavg": "nonsense"})
	s := newHostSampler(dir)
	defer s.close()
	var h record.HostSample
	s.sample(&h)
	if h != (record.HostSample{}) {
		t.Errorf("bad /proc content gave %+v, want all zero with no presence bits", h)
	}
}

func TestHostSampleRealProc(t *testing.T) {
	s := newHostSampler("/proc")
	defer s.close()
	var h record.HostSample
	s.sample(&h)
	if h.Flags&(record.HostHaveMem|record.HostHaveStat) != record.HostHaveMem|record.HostHaveStat || h.MemAvailableKb == 0 || h.CpuTotalTicks == 0 {
		t.Errorf("real /proc sample %+v", h)
	}
}

// TestInjectAndHostOnly runs a source with no eBPF kind (no root needed):
// host samples and injected decisions come through, bad injections fail.
func TestInjectAndHostOnly(t *testing.T) {
	l, err := NewLive(Config{Policy: Policy{Kinds: []record.Kind{record.KindHostSample, record.KindKernelDecision}}, HostInterval: 10e6})
	if err != nil {
		t.Fatal(err)
	}
	dec := make([]byte, record.KindKernelDecision.RecordSize())
	binary.LittleEndian.PutUint16(dec[record.KindOffset:], uint16(record.KindKernelDecision))
	binary.LittleEndian.PutUint32(dec[40:], 77)
	for _, bad := range [][]byte{nil, dec[:50], make([]byte, 64)} {
		if err := l.Inject(bad); !errors.Is(err, ErrBadRecord) {
			t.Errorf("Inject(%d bytes) = %v, want ErrBadRecord", len(bad), err)
		}
	}
	sys := make([]byte, 64)
	sys[record.KindOffset] = byte(record.KindSyscall)
	if err := l.Inject(sys); !errors.Is(err, ErrBadRecord) {
		t.Errorf("Inject(syscall record) = %v, want ErrBadRecord", err)
	}
	c := &collector{keep: func(rec []byte) bool { return record.RecordKind(rec) == record.KindKernelDecision }}
	capture(t, l, c, 4, func() {
		for range 3 {
			if err := l.Inject(dec); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; l.Inject(dec) == nil; i++ {
			if i > 1<<20 {
				t.Fatal("injection queue never fills")
			}
		}
	})
	s := checkExact(t, l, c)
	if c.count[record.KindHostSample] == 0 {
		t.Error("no host samples")
	}
	if len(c.recs) < 3 || binary.LittleEndian.Uint32(c.recs[0][40:]) != 77 {
		t.Errorf("injected decisions: %d delivered", len(c.recs))
	}
	if s[record.KindKernelDecision].Lost == 0 {
		t.Error("a full injection queue did not count the refused record as lost")
	}
	if err := l.Inject(dec); !errors.Is(err, ErrStopped) {
		t.Errorf("Inject after Run = %v, want ErrStopped", err)
	}
	if err := l.Run(t.Context(), nil); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
}

func TestNextAligned(t *testing.T) {
	for _, c := range []struct{ mono, iv, phase, want uint64 }{
		{1000, 100, 3, 1003},
		{1002, 100, 3, 1003},
		{1003, 100, 3, 1103},
		{1050, 100, 3, 1103},
		{1099, 100, 0, 1100},
		{1100, 100, 0, 1200},
	} {
		if got := nextAligned(c.mono, c.iv, c.phase); got != c.want {
			t.Errorf("nextAligned(%d, %d, %d) = %d, want %d", c.mono, c.iv, c.phase, got, c.want)
		}
	}
}

// TestNextHostAfter: a sample on time schedules the next one an interval
// on; a late one re-aligns to the phase from the clocks read at that
// moment, so that the schedule keeps its phase however long the late
// sample's own work took (the run loop's earlier reading of the clock put
// every later sample that much early, for good).
func TestNextHostAfter(t *testing.T) {
	const interval, phase = 50 * time.Millisecond, 5 * time.Millisecond
	due := time.Now().Add(time.Millisecond)
	if got := nextHostAfter(due, interval, phase); !got.Equal(due.Add(interval)) {
		t.Errorf("on time: next %s after the due time, want %s", got.Sub(due), interval)
	}
	late := time.Now().Add(-3 * interval)
	time.Sleep(20 * time.Millisecond) // the late sample's own work
	got := nextHostAfter(late, interval, phase)
	mono := monotonicNs()
	ahead := time.Until(got)
	if ahead <= 0 || ahead > interval {
		t.Fatalf("late: next sample %s from now, want within (0, %s]", ahead, interval)
	}
	// ahead was read after mono: the true phase is at most that much
	// later than the one computed here, never earlier.
	off := time.Duration((mono+uint64(ahead))%uint64(interval)) - phase
	if off < -time.Millisecond || off > 5*time.Millisecond {
		t.Errorf("late: next sample %s off its phase %s", off, phase)
	}
	if got := nextHostAfter(late, interval, 0); time.Until(got) <= interval/2 {
		t.Errorf("late without a phase: next sample %s from now, want about %s", time.Until(got), interval)
	}
}

// TestHostPhase checks that with HostPhase the host samples are taken just
// after multiples of the interval (CLOCK_MONOTONIC), and that a phase
// outside [0, interval) is refused.
func TestHostPhase(t *testing.T) {
	const interval, phase = 50 * time.Millisecond, 5 * time.Millisecond
	for _, bad := range []time.Duration{-time.Millisecond, interval, 2 * interval} {
		if _, err := NewLive(Config{Policy: Policy{Kinds: []record.Kind{record.KindHostSample}}, HostInterval: interval, HostPhase: bad}); !errors.Is(err, ErrBadPolicy) {
			t.Errorf("HostPhase %s: err %v, want ErrBadPolicy", bad, err)
		}
	}
	testenv.MeasuresTime(t)
	t.Run("go timers", func(t *testing.T) { checkHostPhase(t, Config{}, interval, phase) })
	// The real-time thread's way: kernel sleeps and a spin before each
	// sample.
	t.Run("kernel wait and spin", func(t *testing.T) {
		checkHostPhase(t, Config{KernelWait: true, WakeSpin: 200 * time.Microsecond}, interval, phase)
	})
}

func checkHostPhase(t *testing.T, cfg Config, interval, phase time.Duration) {
	cfg.Policy, cfg.HostInterval, cfg.HostPhase = Policy{Kinds: []record.Kind{record.KindHostSample}}, interval, phase
	l, err := NewLive(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{keep: func(rec []byte) bool { return record.RecordKind(rec) == record.KindHostSample }}
	opts := pipeline.Options{QueueLen: 4}
	if cfg.KernelWait {
		opts = realTime
	}
	captureWith(t, l, c, opts, func() { time.Sleep(12 * interval) })
	var phases []time.Duration
	for _, rec := range c.recs {
		ts := binary.LittleEndian.Uint64(rec[0:])
		phases = append(phases, time.Duration(ts%uint64(interval)))
	}
	if len(phases) < 6 {
		t.Fatalf("%d host samples in %s at a %s interval", len(phases), 12*interval, interval)
	}
	slices.Sort(phases)
	// Timers may fire late on a loaded machine, never early: a 2-core
	// machine busy with other work (builds; load tests are kept out by
	// MeasuresTime) wakes a timer up to ~10 ms late, and the median of 12
	// samples within 15 ms of the phase still tells aligned from not.
	if med := phases[len(phases)/2]; med < phase || med >= phase+15*time.Millisecond {
		t.Errorf("median sample phase %s, want within 15 ms after %s (all: %v)", med, phase, phases)
	}
}
