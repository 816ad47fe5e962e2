package anomaly

import (
	"math"
	"testing"
)

// finiteState reports the first learned quantity that is not finite.
func finiteState(s *State) string {
	for name, v := range map[string]float64{
		"fast mean": s.Fast.Mean, "fast MAD": s.Fast.MAD, "slow mean": s.Slow.Mean, "slow MAD": s.Slow.MAD,
		"min": s.Min, "max": s.Max, "zmax": s.ZMax, "zseasonmax": s.ZSeasonMax,
	} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return name
		}
	}
	for b := range s.Season {
		if v := s.Season[b].Mean + s.Season[b].MAD; math.IsNaN(v) || math.IsInf(v, 0) {
			return "season bucket"
		}
	}
	return ""
}

// One extreme value (issue 16, defect 14: after one 1e308 a later 100×
// spike scored 0) is scored as the anomaly it is but must not poison what
// the detector learns: a later ordinary spike is still caught, within the
// same delay as on a clean series, and no learned quantity overflows.
func TestOneExtremeValueDoesNotPoison(t *testing.T) {
	const bad, spike = 2000, 4000
	for _, extreme := range []float64{1e308, -1e308, math.MaxFloat64, 1e12} {
		for _, p := range []struct {
			name string
			p    Params
		}{{"default", DefaultParams()}, {"stage", StageParams()}} {
			for _, height := range []float64{30, 100 * 100} {
				xs := series(6000, 3)
				xs[bad] = extreme
				xs[spike] += height
				d, _ := New(p.p)
				var atBad, atSpike float64
				for i, x := range xs {
					// Time of week as well: the seasonal baseline must not be poisoned either.
					s := d.UpdateAt(x, int32(i/50%Buckets))
					switch i {
					case bad:
						atBad = s
					case spike:
						atSpike = s
					}
				}
				if atBad < threshold {
					t.Errorf("%s, extreme %g: scored %v, want >= %v", p.name, extreme, atBad, threshold)
				}
				if atSpike < threshold {
					t.Errorf("%s, extreme %g, later spike +%g: scored %v, want >= %v", p.name, extreme, height, atSpike, threshold)
				}
				if f := finiteState(&d.S); f != "" {
					t.Errorf("%s, extreme %g: %s is not finite after it", p.name, extreme, f)
				}
			}
		}
	}
}

// NaN and ±Inf are missing values: skipped and counted, scored NaN, and
// nothing learned from them; the next finite value scores as it would
// have without them.
func TestNonFiniteSkippedAndCounted(t *testing.T) {
	xs := series(3000, 6)
	clean, _ := New(DefaultParams())
	holed, _ := New(DefaultParams())
	skipped := 0
	for i, x := range xs {
		want := clean.Update(x)
		if i%97 == 5 {
			for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				if s := holed.Update(bad); !math.IsNaN(s) {
					t.Fatalf("row %d: %v scored %v, want NaN", i, bad, s)
				}
				skipped++
			}
		}
		if got := holed.Update(x); got != want {
			t.Fatalf("row %d: %v after skipped values, %v without them", i, got, want)
		}
	}
	if holed.Skipped() != int64(skipped) || clean.Skipped() != 0 {
		t.Errorf("Skipped() = %d and %d, want %d and 0", holed.Skipped(), clean.Skipped(), skipped)
	}
}
