package tune

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/trace"
)

// traceOutputs runs a recorded trace through the stages before tune.
func traceOutputs(t testing.TB, name string) []predict.Output {
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
	var cfg aggregate.Config
	for _, k := range r.Header().Kinds {
		if k.Kind > 0 && int(k.Kind) < int(decode.NumKinds) {
			cfg.Disabled[k.Kind] = !k.Enabled
			cfg.SampleEvery[k.Kind] = k.SampleEvery
		}
	}
	var evs []decode.Event
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
			evs = append(evs, e)
		}
	}
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
