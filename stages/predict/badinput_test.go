package predict

import (
	"math"
	"testing"

	"github.com/ainka/ainka/stages/features"
)

// One absurd feature value (a counter wrapping, 1e308) must not poison the
// joint model: its baselines stay finite and the broken correlation of
// TestJointCatchesBrokenCorrelation is still caught after it.
func TestJointSurvivesExtremeValue(t *testing.T) {
	in := vectors(3000, 14)
	in[1500].Values[3] = 1e308
	in[1600].Values[5] = -math.MaxFloat64
	breakCorrelation(in, 2500, 2540)
	clean := newStage(t, nil)
	run(clean, vectors(3000, 14))
	s := newStage(t, nil)
	out := run(s, in)
	for _, i := range []int{3, 5} {
		m, d := s.joint.S.Mean[i], s.joint.S.MAD[i]
		cm, cd := clean.joint.S.Mean[i], clean.joint.S.MAD[i]
		if !(math.Abs(m-cm) < 3*cd && d < 3*cd) {
			t.Errorf("joint baseline of feature %d poisoned by one extreme value: mean %v, MAD %v; without it %v, %v", i, m, d, cm, cd)
		}
	}
	if out[1500].Score[3] < 0.65 {
		t.Errorf("the extreme value itself scored %v, want an alarm", out[1500].Score[3])
	}
	if first := firstJoint(out, 2500, 2540); first < 0 || first > 2520 {
		t.Errorf("joint: first detection at %d after an extreme value, want within [2500, 2520]", first)
	}
}

// NaN and ±Inf feature values are skipped and counted per feature; a
// window whose end is not after the previous one (time going backwards)
// is skipped whole and counted, so it teaches nothing.
func TestSkippedValuesAndWindows(t *testing.T) {
	in := vectors(600, 2)
	in[100].Values[0] = math.Inf(1)
	in[101].Values[0] = math.Inf(-1)
	in[102].Values[1] = math.NaN()
	s := newStage(t, nil)
	run(s, in[:300])
	back := in[150] // a window from the past
	back.Values[2] = 1e9
	before := s.det[2].S
	out := s.Process([]features.Vector{back, in[299]}, nil)
	if s.det[2].S != before || !math.IsNaN(out[0].Score[2]) || !math.IsNaN(out[0].Joint) {
		t.Errorf("an out-of-order window was learned or scored: score %v, joint %v", out[0].Score[2], out[0].Joint)
	}
	run(s, in[300:])
	sk := s.Skipped()
	if sk.Values[0] != 2 || sk.Values[1] != 1 || sk.Values[features.PSIIOFullPct] != 600 || sk.Windows != 2 {
		t.Errorf("skipped %d, %d, %d values and %d windows; want 2, 1, 600 (always missing) and 2 (the past one and the repeated one)",
			sk.Values[0], sk.Values[1], sk.Values[features.PSIIOFullPct], sk.Windows)
	}
}
