package predict

import (
	"math"
	"testing"

	"github.com/ainka/ainka/stages/features"
)

// Warm counts the detectors that have seen more than their warm-up; a
// feature that is never present never warms.
func TestWarm(t *testing.T) {
	s, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if w, n := s.Warm(); w != 0 || n != int(features.Count) {
		t.Fatalf("fresh: %d of %d warm", w, n)
	}
	warmup := s.det[0].Params().Warmup
	var out []Output
	for i := 0; i <= warmup+1; i++ {
		var v features.Vector
		v.StartNs, v.EndNs = uint64(i)*1e8, uint64(i+1)*1e8
		for f := range v.Values {
			v.Values[f] = float64(i % 7)
		}
		v.Values[features.NetRxPPS] = math.NaN()
		out = s.Process([]features.Vector{v}, out[:0])
	}
	if w, n := s.Warm(); w != n-1 {
		t.Errorf("after %d windows: %d of %d warm, want all but the missing feature", warmup+2, w, n)
	}
}
