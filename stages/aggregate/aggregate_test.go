package aggregate

import (
	"github.com/ainka/ainka/bpf/record"
	"time"

	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/decode/decodetest"
)

const ms = uint64(1e6)

func events(t testing.TB, recs ...[]byte) []decode.Event {
	t.Helper()
	out := make([]decode.Event, len(recs))
	for i, r := range recs {
		if err := decode.Decode(r, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func run(t testing.TB, cfg Config, batch int, evs []decode.Event) []Window {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []Window
	for i := 0; i < len(evs); i += batch {
		out = a.Process(evs[i:min(i+batch, len(evs))], out)
	}
	return a.Flush(out)
}

func TestHistBuckets(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<20; v += 1 + v/64 {
		i := bucketOf(v)
		lo, w := bucketRange(i)
		if v < lo || v >= lo+w {
			t.Fatalf("value %d in bucket %d = [%d, %d)", v, i, lo, lo+w)
		}
		if i < prev {
			t.Fatalf("buckets not monotonic at %d", v)
		}
		prev = i
	}
	if bucketOf(math.MaxUint64) != NumBuckets-1 || bucketOf(1<<histMaxBits-1) != NumBuckets-1 {
		t.Fatal("large values are not clamped into the last bucket")
	}
}

func TestHistQuantile(t *testing.T) {
	var h Hist
	if !math.IsNaN(h.Quantile(0.5)) {
		t.Fatal("empty histogram has a quantile")
	}
	for v := uint64(1); v <= 100000; v++ {
		h.Add(v * 10)
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		got, want := h.Quantile(q), q*1e6
		if math.Abs(got-want)/want > 0.04 {
			t.Errorf("p%v = %v, want %v ± 4%%", q*100, got, want)
		}
	}
	if h.Quantile(1) > float64(h.MaxNs) {
		t.Fatal("quantile above the maximum")
	}
}

func TestWindowsByEventTime(t *testing.T) {
	var recs [][]byte
	base := uint64(1000) * 1000 * ms // 1000 s after boot, aligned
	for i := uint64(0); i < 35; i++ {
		recs = append(recs, decodetest.Syscall(base+5*ms+i*10*ms, 0, 7, "a", 1, 0, 1000))
	}
	ws := run(t, Config{}, 4, events(t, recs...))
	if len(ws) != 4 {
		t.Fatalf("%d windows, want 4", len(ws))
	}
	total := uint64(0)
	for i, w := range ws {
		total += w.Kinds[decode.KindSyscall]
		wantStart := base + uint64(i)*100*ms
		if i == 0 {
			wantStart = base + 5*ms // the first record
		}
		if w.StartNs != wantStart {
			t.Errorf("window %d starts at %d, want %d", i, w.StartNs, wantStart)
		}
		if i < 3 && (w.EndNs != base+uint64(i+1)*100*ms || w.Flushed) {
			t.Errorf("window %d: end %d flushed %v", i, w.EndNs, w.Flushed)
		}
	}
	if total != 35 || ws[1].Kinds[decode.KindSyscall] != 10 || ws[3].Kinds[decode.KindSyscall] != 5 {
		t.Fatalf("counts %d %d %d", total, ws[1].Kinds[decode.KindSyscall], ws[3].Kinds[decode.KindSyscall])
	}
	last := ws[3]
	if !last.Flushed || last.EndNs != base+345*ms+1 {
		t.Fatalf("last window end %d flushed %v", last.EndNs, last.Flushed)
	}
	if ws[1].SyscallLatency.Count != 10 || ws[1].Tasks[0].PID != 7 || ws[1].Tasks[0].Syscalls != 10 || ws[1].Syscalls[1].Count != 10 {
		t.Fatalf("window 1 detail: %+v", ws[1].Tasks[0])
	}
}

// Batch boundaries must not change the output: replays split the input
// wherever the reader's buffers end.
func TestBatchingInvariant(t *testing.T) {
	evs := events(t, decodetest.Mixed(20000, 2, 5e9+3, 37_000)...)
	var want []byte
	for _, b := range []int{1, 7, 256, 20000} {
		var got []byte
		for _, w := range run(t, Config{}, b, evs) {
			got = w.AppendJSON(got)
			got = append(got, '\n')
		}
		if want == nil {
			want = got
			if !json.Valid(bytes.Split(got, []byte("\n"))[0]) {
				t.Fatalf("invalid JSON %s", bytes.Split(got, []byte("\n"))[0])
			}
			continue
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("batch size %d changes the output", b)
		}
	}
}

func TestOutOfOrder(t *testing.T) {
	base := uint64(10) * 1000 * ms
	evs := events(t,
		decodetest.Syscall(base+10*ms, 0, 1, "a", 1, 0, 1),
		decodetest.Syscall(base+120*ms, 1, 1, "a", 1, 0, 1), // into window 1; window 0 still open
		decodetest.Syscall(base+90*ms, 0, 1, "a", 1, 0, 1),  // within lateness: window 0
		decodetest.Syscall(base+260*ms, 1, 1, "a", 1, 0, 1), // closes windows 0 and 1
		decodetest.Syscall(base+95*ms, 0, 1, "a", 1, 0, 1),  // too late: counted in window 2
	)
	ws := run(t, Config{Lateness: 30 * time.Millisecond}, 1, evs)
	if len(ws) != 3 || ws[0].Events != 2 || ws[1].Events != 1 || ws[2].Events != 2 || ws[2].Late != 1 {
		t.Fatalf("windows: %d; events %v", len(ws), []uint64{ws[0].Events, ws[1].Events})
	}
}

// The first record is often not the oldest: records up to the lateness
// before it belong to the first window, not to "late".
func TestFirstWindowLateness(t *testing.T) {
	base := uint64(10) * 1000 * ms
	evs := events(t,
		decodetest.HostSample(base+70*ms, record.HostSample{}),
		decodetest.Syscall(base+45*ms, 0, 1, "a", 1, 0, 1),
		decodetest.Syscall(base+30*ms, 0, 1, "a", 1, 0, 1), // beyond the lateness: late
	)
	ws := run(t, Config{Lateness: 30 * time.Millisecond}, 8, evs)
	if len(ws) != 1 || ws[0].StartNs != base+45*ms || ws[0].Events != 3 || ws[0].Late != 1 {
		t.Fatalf("%d windows, start %d, events %d, late %d", len(ws), ws[0].StartNs-base, ws[0].Events, ws[0].Late)
	}
}

func TestCPUBusy(t *testing.T) {
	base := uint64(10) * 1000 * ms
	evs := events(t,
		decodetest.SchedSwitch(base, 0, 0, "swapper/0", 5, "work", 0),       // cpu0 busy from 0
		decodetest.SchedSwitch(base+30*ms, 0, 5, "work", 0, "swapper/0", 0), // idle from 30
		decodetest.SchedSwitch(base+80*ms, 0, 0, "swapper/0", 6, "w2", 2000),
		decodetest.SchedSwitch(base+150*ms, 0, 6, "w2", 0, "swapper/0", 0),
		decodetest.Syscall(base+250*ms, 1, 1, "a", 1, 0, 1),
	)
	ws := run(t, Config{}, 2, evs)
	if len(ws) != 3 {
		t.Fatalf("%d windows", len(ws))
	}
	c0 := ws[0].CPUs[0]
	if c0.BusyNs != 50*ms || c0.IdleNs != 50*ms || c0.Switches != 3 {
		t.Fatalf("window 0 cpu0 %+v", c0)
	}
	c1 := ws[1].CPUs[0]
	if c1.BusyNs != 50*ms || c1.IdleNs != 50*ms {
		t.Fatalf("window 1 cpu0 %+v", c1)
	}
	if ws[0].RunqLatency.Count != 1 || ws[0].NumCPU != 1 {
		t.Fatalf("runq %d, cpus %d", ws[0].RunqLatency.Count, ws[0].NumCPU)
	}
	if ws[2].CPUs[0].IdleNs != 50*ms+1 { // idle until the last event
		t.Fatalf("window 2 cpu0 %+v", ws[2].CPUs[0])
	}
}

func TestHostBase(t *testing.T) {
	base := uint64(10) * 1000 * ms
	hs := func(ts, psi uint64) []byte {
		return decodetest.HostSample(ts, record.HostSample{PsiCpuSomeUs: psi, Flags: decode.HostHavePSI})
	}
	evs := events(t, hs(base+10*ms, 100), hs(base+60*ms, 200), hs(base+160*ms, 900), decodetest.Syscall(base+350*ms, 0, 1, "a", 1, 0, 1))
	ws := run(t, Config{}, 3, evs)
	if !ws[0].HaveBase || ws[0].HostBase.PsiCpuSomeUs != 100 || ws[0].Host.PsiCpuSomeUs != 200 {
		t.Fatalf("window 0 host %+v base %+v", ws[0].Host, ws[0].HostBase)
	}
	if !ws[1].HaveBase || ws[1].HostBase.PsiCpuSomeUs != 200 || ws[1].Host.PsiCpuSomeUs != 900 || ws[1].BaseTsNs != base+60*ms {
		t.Fatalf("window 1 host %+v base %+v", ws[1].Host, ws[1].HostBase)
	}
	if ws[2].HaveHost {
		t.Fatal("window 2 has no host sample")
	}
}

func TestGap(t *testing.T) {
	base := uint64(10) * 1000 * ms
	evs := events(t, decodetest.Syscall(base, 0, 1, "a", 1, 0, 1), decodetest.Syscall(base+3600*1000*ms, 0, 1, "a", 1, 0, 1))
	a, _ := New(Config{})
	ws := a.Flush(a.Process(evs, nil))
	if len(ws) != 2 || a.SkippedWindows < 35990 {
		t.Fatalf("%d windows, %d skipped", len(ws), a.SkippedWindows)
	}
	evs = events(t, decodetest.Syscall(base, 0, 1, "a", 1, 0, 1), decodetest.Syscall(base+1000*ms, 0, 1, "a", 1, 0, 1))
	if ws := run(t, Config{}, 1, evs); len(ws) != 11 || ws[5].Events != 0 {
		t.Fatalf("short gap: %d windows", len(ws))
	}
}

func TestTableBounds(t *testing.T) {
	var recs [][]byte
	for i := uint32(0); i < 300; i++ {
		recs = append(recs, decodetest.Syscall(1e9+uint64(i), 0, 100+i, "t", 1000+i, 0, 1))
		recs = append(recs, decodetest.BlockIO(1e9+uint64(i), 0, 100+i, i, 0, 8, 0, 1))
		recs = append(recs, decodetest.NetRx(1e9+uint64(i), 0, i, 100))
	}
	recs = append(recs, decodetest.SchedSwitch(1e9+500, 4000, 1, "a", 2, "b", 1))
	ws := run(t, Config{}, 64, events(t, recs...))
	w := ws[0]
	if w.NumTasks != MaxTasks || w.TasksOther == 0 || w.NumDevices != MaxDevices || w.DevicesOther != 300-MaxDevices ||
		w.NumIfaces != MaxIfaces || w.IfacesOther != 300-MaxIfaces || w.SyscallsOther != 300 || w.CPUsOther != 1 {
		t.Fatalf("bounds: tasks %d+%d devices %d+%d ifaces %d+%d syscalls other %d cpus other %d",
			w.NumTasks, w.TasksOther, w.NumDevices, w.DevicesOther, w.NumIfaces, w.IfacesOther, w.SyscallsOther, w.CPUsOther)
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := New(Config{Interval: 100 * time.Millisecond, Lateness: 100 * time.Millisecond}); !errors.Is(err, ErrConfig) {
		t.Fatalf("lateness = interval accepted: %v", err)
	}
}

func TestZeroAlloc(t *testing.T) {
	evs := events(t, decodetest.Mixed(50000, 2, 1e9, 20_000)...)
	a, _ := New(Config{})
	out := make([]Window, 0, 8)
	i := 0
	allocs := testing.AllocsPerRun(150, func() {
		out = a.Process(evs[i:i+256], out[:0])
		i = (i + 256) % (len(evs) - 256)
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per batch", allocs)
	}
}

func BenchmarkAggregate(b *testing.B) {
	// 2 µs apart: 50k events per 100 ms window.
	benchAggregate(b, Config{}, events(b, decodetest.Mixed(1<<16, 2, 1e9, 2000)...))
}

// benchAggregate feeds evs in batches of 256, b.N events in all.
func benchAggregate(b *testing.B, cfg Config, evs []decode.Event) {
	a, _ := New(cfg)
	out := make([]Window, 0, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 256 {
		j := i % (len(evs) - 256)
		if j == 0 && i > 0 {
			out = a.Flush(out[:0])
		}
		out = a.Process(evs[j:j+256], out[:0])
	}
}

func TestMetrics(t *testing.T) {
	set := metrics.NewSet()
	base := uint64(10) * 1000 * ms
	evs := events(t,
		decodetest.Syscall(base+10*ms, 0, 1, "a", 1, 0, 1),
		decodetest.Syscall(base+260*ms, 1, 1, "a", 1, 0, 1),
		decodetest.Syscall(base+95*ms, 0, 1, "a", 1, 0, 1), // late
	)
	a, _ := New(Config{Lateness: 30 * time.Millisecond, Metrics: set})
	a.Flush(a.Process(evs, nil))
	var buf bytes.Buffer
	set.WritePrometheus(&buf)
	for _, want := range []string{"ainka_aggregate_windows_total 3", "ainka_aggregate_late_events_total 1", "ainka_aggregate_skipped_windows_total 0", "ainka_aggregate_bad_timestamps_total 0"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, buf.String())
		}
	}
}

// weighted sets a record's log2 weight, as the kernel's adaptive sampling
// does.
func weighted(rec []byte, k uint16) []byte {
	flags := uint16(rec[22]) | uint16(rec[23])<<8 // ainka_hdr.flags
	flags |= k << record.WeightShift & record.WeightMask
	rec[22], rec[23] = byte(flags), byte(flags>>8)
	return rec
}

// TestWeightedRecords: a record the kernel kept as 1 of 2^k counts 2^k
// everywhere it is counted, and an unweighted record (every schema 1
// record) counts 1.
func TestWeightedRecords(t *testing.T) {
	evs := events(t,
		weighted(decodetest.Syscall(1*ms, 0, 10, "a", 0, -2, 1000), 3),
		decodetest.Syscall(2*ms, 0, 10, "a", 0, 0, 5000),
		weighted(decodetest.PageFault(3*ms, 1, 10, "a", 0x1000, true), 4),
		weighted(decodetest.PageFault(4*ms, 1, 10, "a", 0x1000, false), 1),
		weighted(decodetest.SchedWakeup(5*ms, 0, 10, 11, "b", true), 2),
		weighted(decodetest.NetRx(6*ms, 0, 2, 100), 5),
	)
	ws := run(t, Config{Interval: 100 * time.Millisecond}, 64, evs)
	if len(ws) != 1 {
		t.Fatalf("%d windows, want 1", len(ws))
	}
	w := &ws[0]
	checks := []struct {
		name      string
		got, want uint64
	}{
		{"syscalls", w.Kinds[decode.KindSyscall], 8 + 1},
		{"syscall errors", w.SyscallErrors, 8},
		{"syscall 0 count", uint64(w.Syscalls[0].Count), 9},
		{"syscall 0 latency", w.Syscalls[0].LatencyNs, 8*1000 + 5000},
		{"latency hist count", w.SyscallLatency.Count, 9},
		{"user faults", w.FaultsUser, 16},
		{"kernel faults", w.FaultsKernel, 2},
		{"wakeups", w.Kinds[decode.KindSchedWakeup], 4},
		{"new wakeups", w.WakeupsNew, 4},
		{"packets", w.Kinds[decode.KindNetRx], 32},
		{"rx bytes", w.NetRxBytes, 3200},
		{"records", w.Events, 6},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// The p50 of 8 syscalls of 1 µs and one of 5 µs is 1 µs.
	if p := w.SyscallLatency.Quantile(0.5); p > 1100 {
		t.Errorf("weighted p50 %v ns, want about 1000", p)
	}
	for i := 0; i < w.NumTasks; i++ {
		if tk := &w.Tasks[i]; tk.PID == 10 && (tk.Syscalls != 9 || tk.Faults != 18 || tk.SyscallErrors != 8) {
			t.Errorf("task 10: %d syscalls, %d errors, %d faults; want 9, 8, 18", tk.Syscalls, tk.SyscallErrors, tk.Faults)
		}
	}
}
