package features

import (
	"encoding/json"
	"github.com/ainka/ainka/bpf/record"
	"math"
	"strings"
	"testing"

	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/decode/decodetest"
)

const ms = uint64(1e6)

func windows(t *testing.T, cfg aggregate.Config, recs ...[]byte) []aggregate.Window {
	t.Helper()
	evs := make([]decode.Event, len(recs))
	for i, r := range recs {
		if err := decode.Decode(r, &evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	a, err := aggregate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a.Flush(a.Process(evs, nil))
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestCompute(t *testing.T) {
	base := uint64(100) * 1000 * ms
	host := func(ts, psiCPU, busy, total uint64) []byte {
		return decodetest.HostSample(ts, record.HostSample{
			MemAvailableKb: 2048 * 1024, PsiCpuSomeUs: psiCPU, NrRunning: 3, CpuBusyTicks: busy, CpuTotalTicks: total,
			Flags: decode.HostHavePSI | decode.HostHaveMem | decode.HostHaveStat,
		})
	}
	var recs [][]byte
	recs = append(recs, host(base, 0, 0, 0))
	for i := uint64(0); i < 50; i++ {
		ret := int64(0)
		if i < 5 {
			ret = -2
		}
		recs = append(recs, decodetest.Syscall(base+1+i*ms, 0, 9, "x", 0, ret, 1000))
	}
	recs = append(recs,
		decodetest.SchedSwitch(base+2*ms, 0, 0, "swapper/0", 9, "x", 4000),
		decodetest.SchedSwitch(base+27*ms, 0, 9, "x", 0, "swapper/0", 0),
		decodetest.PageFault(base+3*ms, 0, 9, "x", 1, false),
		decodetest.NetRx(base+4*ms, 0, 1, 1000),
		decodetest.BlockIO(base+5*ms, 0, 9, 8<<20, 0, 8, 0, 200_000),
		decodetest.KernelDecision(base+6*ms, 1, 1),
		host(base+50*ms, 10_000, 25, 100), // 10 ms of PSI in 50 ms: 20 %
		decodetest.Syscall(base+300*ms, 0, 9, "x", 0, 0, 1000),
	)
	ws := windows(t, aggregate.Config{}, recs...)
	v := new(Vector)
	Compute(&ws[0], v)
	// Window 0 is [base, base+100ms): 0.1 s.
	want := map[ID]float64{
		SyscallsPerS: 500, SyscallErrorsPerS: 50, SyscallLatencyP99Us: 1, SyscallLatencyP50Us: 1,
		CtxSwitchesPerS: 20, RunqLatencyP99Us: 4, PgfaultsPerS: 10, PgfaultsKernelPerS: 10,
		NetRxPPS: 10, NetRxBytesPerS: 10000, BlkIOPS: 10, BlkReadBytesPerS: 40960, BlkWriteBytesPerS: 0,
		BlkLatencyP99Us: 200, BlkErrorsPerS: 0, KernelDecisionsPerS: 10,
		PSICPUSomePct: 20, PSIMemSomePct: 0, MemAvailableMB: 2048, NrRunning: 3,
		CPUBusyPct: 100 * 25.0 / 98, // busy 2..27 ms, idle 27..100 ms; nothing known before the first switch
	}
	for id, w := range want {
		got := v.Values[id]
		if id == BlkLatencyP99Us || id == SyscallLatencyP99Us || id == SyscallLatencyP50Us || id == RunqLatencyP99Us {
			if math.Abs(got-w)/w > 0.04 {
				t.Errorf("%v = %v, want %v ± 4%%", id, got, w)
			}
			continue
		}
		if !near(got, w) {
			t.Errorf("%v = %v, want %v", id, got, w)
		}
	}
	if v.Values[WakeupsPerS] != 0 {
		t.Errorf("wakeups = %v", v.Values[WakeupsPerS])
	}
	// Window 1 has no host sample and no events: host features unknown,
	// percentiles unknown, rates zero.
	Compute(&ws[1], v)
	for _, id := range []ID{PSICPUSomePct, MemAvailableMB, NrRunning, SyscallLatencyP99Us, BlkLatencyP99Us} {
		if !v.Missing(id) {
			t.Errorf("window 1: %v = %v, want NaN", id, v.Values[id])
		}
	}
	if v.Values[SyscallsPerS] != 0 || v.Values[CPUBusyPct] != 0 {
		t.Errorf("window 1: syscalls %v busy %v", v.Values[SyscallsPerS], v.Values[CPUBusyPct])
	}
}

func TestDisabledAndSampled(t *testing.T) {
	var cfg aggregate.Config
	cfg.Disabled[decode.KindBlockIO] = true
	cfg.SampleEvery[decode.KindSyscall] = 10
	cfg.SampleEvery[decode.KindSchedSwitch] = 2
	ws := windows(t, cfg,
		decodetest.HostSample(1e9, record.HostSample{CpuBusyTicks: 0, CpuTotalTicks: 0, Flags: decode.HostHaveStat}),
		decodetest.Syscall(1e9+1, 0, 1, "a", 0, 0, 1),
		decodetest.SchedSwitch(1e9+2, 0, 0, "swapper/0", 1, "a", 0),
		decodetest.HostSample(1e9+50*ms, record.HostSample{CpuBusyTicks: 3, CpuTotalTicks: 4, Flags: decode.HostHaveStat}),
		decodetest.Syscall(1e9+200*ms, 0, 1, "a", 0, 0, 1),
	)
	var v Vector
	Compute(&ws[0], &v)
	if !v.Missing(BlkIOPS) || !v.Missing(BlkLatencyP99Us) {
		t.Errorf("disabled block_io: iops %v", v.Values[BlkIOPS])
	}
	if !near(v.Values[SyscallsPerS], 100) {
		t.Errorf("sampled syscalls/s = %v, want 100", v.Values[SyscallsPerS])
	}
	if !near(v.Values[CPUBusyPct], 75) { // sampled sched_switch: host ticks instead
		t.Errorf("cpu busy = %v, want 75 from ticks", v.Values[CPUBusyPct])
	}
	if !v.Missing(PSICPUSomePct) {
		t.Errorf("psi without PSI flag = %v", v.Values[PSICPUSomePct])
	}
}

func TestJSON(t *testing.T) {
	var v Vector
	v.StartNs, v.EndNs = 1, 2
	for i := range v.Values {
		v.Values[i] = float64(i) + 0.5
	}
	v.Values[PSIIOFullPct] = math.NaN()
	js := v.AppendJSON(nil)
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	if m["psi_io_full_pct"] != nil || m["syscalls_per_s"] != 0.5 || m["end_ns"] != 2.0 || len(m) != int(Count)+4 {
		t.Fatalf("%s", js)
	}
	if !strings.HasPrefix(string(js), `{"start_ns":1,"end_ns":2,"syscalls_per_s":0.5,`) {
		t.Fatalf("field order: %s", js)
	}
	// The tables' rows: comma-separated objects, the first field first.
	v.NumTasks, v.Tasks[0].PID = 1, 42
	v.NumDevices, v.Devices[0].Dev, v.Devices[1].Dev = 2, 7<<20|3, 8<<20
	v.NumNetns, v.Netns[0].Netns, v.Netns[1].Netns = 2, 4026531840, 4026532000
	js = v.AppendJSON(nil)
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	for _, want := range []string{`"tasks":[{"pid":42,"comm":`, `"devices":[{"major":7,"minor":3,`, `},{"major":8,"minor":0,`,
		`"netns":[{"netns":4026531840,"records":0,`, `},{"netns":4026532000,"records":0,`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("no %s in %s", want, js)
		}
	}
}

func TestProcessZeroAlloc(t *testing.T) {
	ws := windows(t, aggregate.Config{}, decodetest.Mixed(20000, 2, 1e9, 100_000)...)
	x := New()
	out := make([]Vector, 0, len(ws))
	allocs := testing.AllocsPerRun(50, func() { out = x.Process(ws, out[:0]) })
	if allocs != 0 || len(out) != len(ws) {
		t.Fatalf("%v allocs, %d vectors for %d windows", allocs, len(out), len(ws))
	}
}

// A PSI total that grew by more than the samples' timestamps are apart
// (read-to-timestamp jitter on a fully stalled host) is 100 %, not more.
func TestPSIAtMost100(t *testing.T) {
	host := func(ts, psi uint64) []byte {
		return decodetest.HostSample(ts, record.HostSample{PsiCpuSomeUs: psi, PsiMemSomeUs: psi / 2, Flags: decode.HostHavePSI})
	}
	ws := windows(t, aggregate.Config{},
		host(1e9, 0),
		host(1e9+50*ms, 50_500), // 50.5 ms of stall measured over 50 ms
		decodetest.Syscall(1e9+200*ms, 0, 1, "a", 0, 0, 1),
	)
	var v Vector
	Compute(&ws[0], &v)
	if v.Values[PSICPUSomePct] != 100 || !near(v.Values[PSIMemSomePct], 50.5) {
		t.Errorf("psi cpu %v %%, mem %v %%; want 100 and 50.5", v.Values[PSICPUSomePct], v.Values[PSIMemSomePct])
	}
}
