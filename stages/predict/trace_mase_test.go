package predict

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/trace"
)

// traceVectors replays a testdata trace through decode, aggregate and
// features exactly as `ainka replay` builds the chain (the aggregation
// settings come from the trace header).
func traceVectors(t *testing.T, path string) ([]features.Vector, trace.Header) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := trace.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	h := r.Header()
	agg, err := aggregate.New(aggregate.ConfigFrom(settings.FromHeader(h)))
	if err != nil {
		t.Fatal(err)
	}
	var evs []decode.Event
	for {
		rec, err := r.NextRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var e decode.Event
		if decode.Decode(rec, &e) == nil {
			evs = append(evs, e)
		}
	}
	ws := agg.Flush(agg.Process(evs, nil))
	return features.New().Process(ws, nil), h
}

// traceMASE is the stage's forecast error at its horizon over the naive
// forecast's (x[t+h] = x[t]) on one feature, online over the replay, and
// the number of forecasts scored. NaN when the naive error is 0 (a
// constant series) or nothing was scored.
func traceMASE(out []Output, f features.ID, h int) (float64, int) {
	var e, n float64
	cnt := 0
	for k := h; k < len(out); k++ {
		x, prev, fc := out[k].Vector.Values[f], out[k-h].Vector.Values[f], out[k-h].Forecast[f].Value
		if math.IsNaN(x) || math.IsNaN(prev) || math.IsNaN(fc) {
			continue
		}
		e += math.Abs(x - fc)
		n += math.Abs(x - prev)
		cnt++
	}
	if n == 0 || cnt == 0 {
		return math.NaN(), cnt
	}
	return e / n, cnt
}

// featureClass groups the features for docs/predict.md.
var featureClass = [features.Count]string{
	features.SyscallsPerS: "syscall", features.SyscallLatencyP50Us: "syscall", features.SyscallLatencyP99Us: "syscall", features.SyscallErrorsPerS: "syscall",
	features.CtxSwitchesPerS: "sched", features.WakeupsPerS: "sched", features.RunqLatencyP50Us: "sched", features.RunqLatencyP99Us: "sched", features.NrRunning: "sched",
	features.PgfaultsPerS: "memory", features.PgfaultsKernelPerS: "memory", features.MemAvailableMB: "memory", features.PSIMemSomePct: "memory", features.PSIMemFullPct: "memory",
	features.NetRxPPS: "network", features.NetRxBytesPerS: "network",
	features.BlkIOPS: "block", features.BlkReadBytesPerS: "block", features.BlkWriteBytesPerS: "block", features.BlkLatencyP99Us: "block", features.BlkErrorsPerS: "block",
	features.PSIIOSomePct: "block", features.PSIIOFullPct: "block",
	features.CPUBusyPct: "cpu", features.PSICPUSomePct: "cpu",
	features.KernelDecisionsPerS: "kernel",
}

// traceHorizons are the prediction windows evaluated: the default (1 s,
// 10 windows) and one window.
var traceHorizons = []float64{1, 0.1}

// TestTraceMASE runs the stage (default configuration, the trace's boot
// offset) over every testdata trace and compares its forecasts at the
// prediction window with the naive forecast, per feature, online. The
// traces are 2 s long (17-20 windows), so at the default 1 s window each
// series has 7-10 forecasts, all made before any 10-step error could be
// seen (the cold start): single series are noise, and the test checks the
// pooled figure, the geometric mean of MASE over every non-constant
// series, which must be below 1. Per trace and feature class it logs the
// geometric mean too (go test -v; docs/predict.md copies it).
func TestTraceMASE(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/traces/*.trace")
	if len(paths) == 0 {
		t.Skip("no testdata/traces/*.trace beside the repository root")
	}
	classes := []string{"syscall", "sched", "memory", "network", "block", "cpu", "kernel"}
	for _, sec := range traceHorizons {
		var logSum float64
		var n, below, above int
		for _, p := range paths {
			vecs, h := traceVectors(t, p)
			cfg := DefaultConfig()
			st := settings.FromHeader(h)
			cfg.Window, cfg.BootOffsetNs = st.IntervalOrDefault(), st.BootOffsetNs
			cfg.PredictionWindowSec = sec
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			out := s.Process(vecs, nil)
			hz := cfg.horizon()
			sum := map[string]float64{}
			cnt := map[string]int{}
			name := filepath.Base(p)
			for f := features.ID(0); f < features.Count; f++ {
				m, k := traceMASE(out, f, hz)
				if math.IsNaN(m) {
					continue
				}
				t.Logf("h=%d %s %-24s MASE %.3f over %d forecasts", hz, name, f, m, k)
				sum[featureClass[f]] += math.Log(m)
				cnt[featureClass[f]]++
				logSum += math.Log(m)
				n++
				if m < 0.9995 {
					below++
				} else if m > 1.0005 {
					above++
				}
			}
			line := fmt.Sprintf("h=%d %s (%d windows):", hz, name, len(vecs))
			for _, c := range classes {
				if cnt[c] > 0 {
					line += fmt.Sprintf(" %s %.3f (%d)", c, math.Exp(sum[c]/float64(cnt[c])), cnt[c])
				}
			}
			t.Log(line)
		}
		if n == 0 {
			t.Fatalf("h=%gs: no non-constant feature series in %d traces", sec, len(paths))
		}
		g := math.Exp(logSum / float64(n))
		t.Logf("prediction window %gs: %d non-constant series, geometric mean MASE %.3f, %d below 1, %d above, %d tie", sec, n, g, below, above, n-below-above)
		if g >= 1 {
			t.Errorf("prediction window %gs: geometric mean MASE %.3f over %d series, want < 1", sec, g, n)
		}
	}
}
