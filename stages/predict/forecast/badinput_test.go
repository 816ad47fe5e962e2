package forecast

import (
	"math"
	"math/rand/v2"
	"testing"
)

// One absurd value must not ruin the forecasts for long: 200 samples
// after a 1e308 in an AR(2) series the level, the scale and the interval
// are back near those of a clean run, and the forecasts beat naive again.
func TestOneExtremeValueDoesNotPoison(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	xs := make([]float64, 4000)
	for i := 2; i < len(xs); i++ {
		xs[i] = 1.2*xs[i-1] - 0.5*xs[i-2] + r.NormFloat64()
	}
	for _, extreme := range []float64{1e308, -math.MaxFloat64, 1e12} {
		clean, _ := New(DefaultParams(3))
		holed, _ := New(DefaultParams(3))
		var fc, fh Forecast
		var errC, errH, errN float64
		for i, x := range xs {
			y := x
			if i == 2000 {
				y = extreme
			}
			fc, fh = clean.Update(x), holed.Update(y)
			if i >= 2200 && i+3 < len(xs) {
				errC += math.Abs(xs[i+3] - fc.Value)
				errH += math.Abs(xs[i+3] - fh.Value)
				errN += math.Abs(xs[i+3] - x)
			}
		}
		c, h := clean.S, holed.S
		if !(math.Abs(h.Mean-c.Mean) < c.Scale && h.Scale < 2*c.Scale && fh.Hi-fh.Lo < 2*(fc.Hi-fc.Lo)) {
			t.Errorf("extreme %g: level %v scale %v interval %v; clean %v %v %v", extreme, h.Mean, h.Scale, fh.Hi-fh.Lo, c.Mean, c.Scale, fc.Hi-fc.Lo)
		}
		if errH > 1.05*errC || errH > 0.95*errN {
			t.Errorf("extreme %g: absolute error %.0f after it, %.0f clean, %.0f naive", extreme, errH, errC, errN)
		}
	}
}
