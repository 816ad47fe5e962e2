package wasm_test

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/plugins/wasm"
	"github.com/ainka/ainka/plugins/wasm/wasmtest"
	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/features"
)

var built map[string]string

func TestMain(m *testing.M) { wasmtest.Main(m, &built) }

func load(t testing.TB, name string) *wasm.Module {
	t.Helper()
	m, err := wasm.Load(context.Background(), built[name], wasm.DefaultLimits())
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	t.Cleanup(m.Close)
	return m
}

func vector(end uint64, set map[features.ID]float64) *features.Vector {
	v := &features.Vector{StartNs: end - 100e6, EndNs: end}
	for i := range v.Values {
		v.Values[i] = math.NaN()
	}
	for id, x := range set {
		v.Values[id] = x
	}
	return v
}

// TestExampleDetector: the example scores a surge of run-queue latency
// after learning its level, and CPU starvation from PSI, and says who it is.
func TestExampleDetector(t *testing.T) {
	m := load(t, "pressure")
	if m.Info.Name != "pressure" || m.Info.Kind != wasm.Detector || len(m.Info.Scores) != 2 || m.Info.Version != "1.0.0" {
		t.Fatalf("info %+v", m.Info)
	}
	scores := make([]float64, 2)
	for i := range 200 {
		x := 100 + float64(i%7)
		if err := m.Detect(vector(uint64(i+1)*100e6, map[features.ID]float64{features.RunqLatencyP99Us: x, features.PSICPUSomePct: 20}), scores); err != nil {
			t.Fatal(err)
		}
		if scores[0] != 0 || scores[1] != 0.2 {
			t.Fatalf("window %d: calm scores %v, want [0 0.2]", i, scores)
		}
	}
	if err := m.Detect(vector(201*100e6, map[features.ID]float64{features.RunqLatencyP99Us: 5000}), scores); err != nil {
		t.Fatal(err)
	}
	if scores[0] < 0.9 || !math.IsNaN(scores[1]) {
		t.Fatalf("surge scores %v, want [>0.9 NaN]", scores)
	}
	if st := m.Stats(); st.Calls != 201 || st.Outputs != 402 || st.Disabled != nil || st.CPU <= 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestExampleTuner: the example proposes one step down of vm.swappiness
// after ten windows of memory pressure, parsed against the allowlist, then
// keeps quiet for its cooldown.
func TestExampleTuner(t *testing.T) {
	m := load(t, "swappiness")
	var got []wasm.Proposal
	for i := range 69 {
		ps, err := m.Tune(vector(uint64(i+1)*100e6, map[features.ID]float64{features.PSIMemSomePct: 25, features.MemAvailableMB: 300}), nil)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ps...)
		if i == 9 && len(got) != 1 {
			t.Fatalf("after 10 windows of pressure: %d proposals, want 1", len(got))
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d proposals in 69 windows, want 1 (cooldown 50)", len(got))
	}
	a := got[0].Action
	if a.Kind != action.Sysctl || a.Target != "vm.swappiness" || a.Op != action.Sub || a.Value != "10" || !strings.Contains(got[0].Reason, "psi mem some 25.0%") {
		t.Fatalf("proposal %+v", got[0])
	}
}

// TestHostile: each hostile module is refused at load or disabled at its
// first bad call with a reason naming what it did; later calls return
// ErrDisabled at once.
func TestHostile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		timeout  time.Duration
		loadErr  error
		callErr  error
		contains string
	}{
		{name: "import", loadErr: wasm.ErrImport, contains: "imports env.open_socket, which AINKA does not provide"},
		{name: "loop", timeout: 300 * time.Millisecond, callErr: wasm.ErrTimeout, contains: "ainka_detect ran past 300ms"},
		{name: "alloc", timeout: 30 * time.Second, callErr: wasm.ErrTrap, contains: "out of memory"},
		{name: "trap", callErr: wasm.ErrTrap, contains: "panic: runtime error: index out of range"},
		{name: "garbage", callErr: wasm.ErrGarbage, contains: "score s = 7, outside [0,1]"},
		{name: "badknob", callErr: wasm.ErrGarbage, contains: `proposal "sysctl kernel.panic = 1 # reboot the host"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := wasm.DefaultLimits()
			if tc.timeout > 0 {
				lim.CallTimeout = tc.timeout
			}
			m, err := wasm.Load(context.Background(), built[tc.name], lim)
			if tc.loadErr != nil {
				if !errors.Is(err, tc.loadErr) || !strings.Contains(err.Error(), tc.contains) {
					t.Fatalf("load error %v, want %v containing %q", err, tc.loadErr, tc.contains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			err = callUntilFailure(m, 5)
			if !errors.Is(err, tc.callErr) || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("call error %v, want %v containing %q", err, tc.callErr, tc.contains)
			}
			t.Logf("disabled: %v", err)
			if st := m.Stats(); st.Disabled != err {
				t.Fatalf("disabled %v, want %v", st.Disabled, err)
			}
			start := time.Now()
			if err := callUntilFailure(m, 1); !errors.Is(err, wasm.ErrDisabled) || time.Since(start) > 100*time.Millisecond {
				t.Fatalf("call after disabling: %v", err)
			}
		})
	}
}

// callUntilFailure makes up to n calls of m's kind and returns the first error.
func callUntilFailure(m *wasm.Module, n int) error {
	scores := make([]float64, len(m.Info.Scores))
	for i := range n {
		v := vector(uint64(i+1)*100e6, map[features.ID]float64{features.CPUBusyPct: 50})
		var err error
		if m.Info.Kind == wasm.Detector {
			err = m.Detect(v, scores)
		} else {
			_, err = m.Tune(v, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// TestWrongKind: a detector cannot be asked to tune, and the mistake does
// not disable it.
func TestWrongKind(t *testing.T) {
	m := load(t, "pressure")
	if _, err := m.Tune(vector(1e8, nil), nil); !errors.Is(err, wasm.ErrKind) {
		t.Fatalf("Tune on a detector: %v", err)
	}
	if err := m.Detect(vector(1e8, nil), make([]float64, 2)); err != nil {
		t.Fatal(err)
	}
}

// TestNotAPlugin: bytes that are not WebAssembly, and a file that is not
// there, are errors naming the problem.
func TestNotAPlugin(t *testing.T) {
	if _, err := wasm.LoadBytes(context.Background(), []byte("not wasm"), wasm.DefaultLimits()); !errors.Is(err, wasm.ErrABI) || !strings.Contains(err.Error(), "compile") {
		t.Fatalf("not wasm: %v", err)
	}
	if _, err := wasm.Load(context.Background(), "/nonexistent.wasm", wasm.DefaultLimits()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	// The smallest valid module: no exports at all.
	empty := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	if _, err := wasm.LoadBytes(context.Background(), empty, wasm.DefaultLimits()); !errors.Is(err, wasm.ErrABI) || !strings.Contains(err.Error(), "no export ainka_abi_version") {
		t.Fatalf("empty module: %v", err)
	}
}

// TestMemoryLimit: a module whose runtime needs more memory than allowed
// is refused at load, not later.
func TestMemoryLimit(t *testing.T) {
	lim := wasm.DefaultLimits()
	lim.MemoryPages = 8
	_, err := wasm.Load(context.Background(), built["pressure"], lim)
	if !errors.Is(err, wasm.ErrABI) || !strings.Contains(err.Error(), "over limit of 8 pages") {
		t.Fatalf("a Go module in 512 KiB of memory: %v", err)
	}
}

// BenchmarkDetect30 is the cost of one detector call on a 30-feature
// window (the bound: 20 µs). Besides the wall time per call it
// reports the thread CPU time per call the module's Stats account, which
// a loaded host (threads waiting for a CPU) does not inflate.
func BenchmarkDetect30(b *testing.B) {
	m := load(b, "bench30")
	scores := make([]float64, 1)
	v := vector(1e8, nil)
	for i := range v.Values {
		v.Values[i] = float64(i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v.Values[0] = float64(i % 100)
		if err := m.Detect(v, scores); err != nil {
			b.Fatal(err)
		}
	}
	st := m.Stats()
	b.ReportMetric(float64(st.CPU.Nanoseconds())/float64(st.Calls), "cpu-ns/call")
}
