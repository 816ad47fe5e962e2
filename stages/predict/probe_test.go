package predict

import (
	"bytes"
	"math"
	"math/rand"
	"testing"

	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/features"
)

// TestProbeFeatureScores: a probe plugin's feature is scored and
// forecast like a built-in one: a spike after a steady stretch scores
// far above the steady windows, and the output's JSON names it.
func TestProbeFeatureScores(t *testing.T) {
	set, err := spec.NewSet([]spec.Kind{{Kind: spec.KindBase, Name: "sigs", Size: 48, Key: -1,
		Fields:   []spec.Field{{Name: "sig", Offset: 40, Size: 8}},
		Features: []spec.Feature{{Name: "per_s", Op: spec.OpRate, Field: -1}}}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	in := make([]features.Vector, 600)
	for i := range in {
		v := &in[i]
		v.StartNs, v.EndNs = uint64(i)*1e8, uint64(i+1)*1e8
		for j := range v.Values {
			v.Values[j] = 100 + r.NormFloat64()
		}
		v.NumProbe, v.Probes = 1, set
		v.Probe[0] = 50 + r.NormFloat64()
	}
	in[len(in)-1].Probe[0] = 500
	out := s.Process(in, nil)
	steady, spike := out[len(out)-2].ProbeScore[0], out[len(out)-1].ProbeScore[0]
	if !(spike > 0.9) || !(steady < 0.5) {
		t.Fatalf("probe score steady %v, spike %v", steady, spike)
	}
	if f := out[len(out)-2].ProbeForecast[0].Value; math.Abs(f-50) > 5 {
		t.Errorf("forecast %v, want about 50", f)
	}
	js := out[len(out)-1].AppendJSON(nil)
	if !bytes.Contains(js, []byte(`"probes":{"sigs.per_s":{"value":500,"score":`)) {
		t.Errorf("JSON lacks the probe feature: %s", js[len(js)-300:])
	}
}
