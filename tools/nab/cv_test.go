package nab_test

import (
	"math"
	"testing"

	"github.com/ainka/ainka/stages/predict/anomaly"
	"github.com/ainka/ainka/tools/nab"
)

// cvGrid is the settings the default detector's spatial tolerance is
// chosen among (docs/predict.md, "Cross-validated"); the first is
// DefaultParams (spatial_tol 0.01), which must be the one chosen on all
// categories. The gate (0.675), the soft rest (300) and the fatigue
// (0.03) were fixed by comparing this cross-validated score between
// designs; the figure with them in the grid too is in docs/predict.md
// (76.24 / 70.08).
var cvGrid = []string{"", "spatial_tol=0.005", "spatial_tol=0.015", "spatial_tol=0.02"}

// TestCrossValidated guards the honest score: leave-one-category-out, the
// setting and the thresholds chosen on five categories score the sixth
// within 5 points of what the setting chosen on all six scores there, and
// the held-out categories together stay above the guard.
func TestCrossValidated(t *testing.T) {
	c := loadCorpus(t)
	var settings []nab.Setting
	for _, p := range cvGrid {
		newDet, err := anomaly.Factory(anomaly.DefaultName, p)
		if err != nil {
			t.Fatal(err)
		}
		settings = append(settings, nab.Setting{Name: p, Scores: nab.Run(c, func() nab.Stream { return newDet() })})
	}
	cv, err := nab.CrossValidate(c, settings)
	if err != nil {
		t.Fatal(err)
	}
	if best, err := nab.Choose(c, settings); err != nil || best != 0 {
		t.Errorf("chosen on all categories: %q (%v), want the default", cvGrid[best], err)
	}
	// In sample: the default, with the corpus-optimised thresholds.
	res, err := nab.Evaluate(c, settings[0].Scores)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range cv.Folds {
		for k, p := range nab.Profiles {
			in := res[k].Categories[i].Score
			t.Logf("%-22s %-18s held out %6.2f, in sample %6.2f (threshold %.4f, setting %q)", f.Category, p.Name, f.Score[k], in, f.Threshold[k], f.Chosen)
			if res[k].Categories[i].Category != f.Category {
				t.Fatalf("fold %d is %s, category %s", i, f.Category, res[k].Categories[i].Category)
			}
			if math.IsNaN(in) {
				continue // no labelled anomalies: nothing to normalise by
			}
			if !(f.Score[k] >= in-5) {
				t.Errorf("%s %s: held out %.2f, more than 5 points under in sample %.2f", f.Category, p.Name, f.Score[k], in)
			}
		}
	}
	floor := [3]float64{77.1, 71.5, 81.2}
	for k, p := range nab.Profiles {
		t.Logf("cross-validated %s: %.2f (in sample %.2f)", p.Name, cv.Score[k], res[k].Score)
		if !(cv.Score[k] >= floor[k]) {
			t.Errorf("cross-validated %s: %.2f, below the guard %.1f", p.Name, cv.Score[k], floor[k])
		}
	}
}
