package forecast

import (
	"math"
	"sort"
	"testing"

	"github.com/ainka/ainka/tools/nab"
)

// TestNABMASE forecasts every NAB development series at horizons 1 and 10 (10 is the stage's default: 1 s of 100 ms windows)
// and checks that the forecaster beats the naive forecast in aggregate.
// The per-series figures are logged (go test -v) and copied to
// docs/predict.md.
func TestNABMASE(t *testing.T) {
	dir := nab.TestData(t)
	c, err := nab.LoadCorpus(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []int{1, 10} {
		var mases []float64
		for _, f := range c.Files {
			ev, err := Evaluate(f.Series.Values, DefaultParams(h), nab.ProbationLength(len(f.Series.Values)))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("h=%d %-55s MASE %.3f coverage %.2f", h, f.Name, ev.MASE, ev.Coverage)
			if !math.IsNaN(ev.MASE) {
				mases = append(mases, ev.MASE)
			}
		}
		sort.Float64s(mases)
		med := mases[len(mases)/2]
		below := 0
		for _, m := range mases {
			if m < 1 {
				below++
			}
		}
		t.Logf("h=%d: median MASE %.3f, %d/%d series below 1", h, med, below, len(mases))
		if med >= 1 {
			t.Errorf("h=%d: median MASE %.3f, want < 1", h, med)
		}
	}
}
