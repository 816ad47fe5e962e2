package tune

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/ainka/ainka/internal/testenv"
	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/trace"
)

// traceOutputs runs a recorded trace through the stages before tune.
func traceOutputs(t testing.TB, name string) []predict.Output {
	var cfg aggregate.Config
	var evs []decode.Event
	return traceOutputsWith(t, name, &cfg, &evs)
}

// traceOutputsWith is traceOutputs, also returning the aggregator's
// configuration and the decoded events.
func traceOutputsWith(t testing.TB, name string, cfgp *aggregate.Config, evsp *[]decode.Event) []predict.Output {
	t.Helper()
	f, err := os.Open("../../testdata/traces/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := trace.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cfgp
	for _, k := range r.Header().Kinds {
		if k.Kind > 0 && int(k.Kind) < int(decode.NumKinds) {
			cfg.Disabled[k.Kind] = !k.Enabled
			cfg.SampleEvery[k.Kind] = k.SampleEvery
		}
	}
	evs := evsp
	for {
		rec, err := r.NextRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var e decode.Event
		if decode.Decode(rec, &e) == nil {
			*evs = append(*evs, e)
		}
	}
	return upstream(t, *cfg, *evs)
}

// upstream runs decoded events through the stages before tune: the chain
// whose cost the tune stage adds to.
func upstream(t testing.TB, cfg aggregate.Config, evs []decode.Event) []predict.Output {
	a, err := aggregate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ws := a.Flush(a.Process(evs, nil))
	vs := features.New().Process(ws, nil)
	p, err := predict.New(predict.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return p.Process(vs, nil)
}

// TestBenchTuneCost guards the tune stage's cost: on a recorded trace,
// tune (a new stage, advice mode, every window) against the stages
// before it (aggregate, features, predict) on the same trace, as a ratio
// measured in one run (make bench-check). The tune stage works per
// window, the others per event, so the ratio is small; it must stay
// within 5 %.
func TestBenchTuneCost(t *testing.T) {
	var cfg aggregate.Config
	var evs []decode.Event
	outs := traceOutputsWith(t, "fio-randread.trace", &cfg, &evs)
	testenv.BenchRatio(t, 0.05, func(n int) {
		for range n {
			s, err := New(Config{CPU: Advise, Readahead: Advise, DeviceName: func(uint32) string { return "sda" }})
			if err != nil {
				t.Fatal(err)
			}
			s.Process(outs, make([]Window, 0, len(outs)))
		}
	}, func(n int) {
		for range n {
			upstream(t, cfg, evs)
		}
	})
}
