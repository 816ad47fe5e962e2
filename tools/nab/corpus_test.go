package nab_test

import (
	"math"
	"testing"

	"github.com/ainka/ainka/stages/predict/anomaly"
	"github.com/ainka/ainka/tools/nab"
)

func loadCorpus(t *testing.T) *nab.Corpus {
	t.Helper()
	c, err := nab.LoadCorpus(nab.TestData(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func score(t *testing.T, c *nab.Corpus, name string) []nab.Result {
	t.Helper()
	newDet, err := anomaly.Factory(name, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := nab.Evaluate(c, nab.Run(c, func() nab.Stream { return newDet() }))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCorpusBaselines checks the scorer on the corpus itself: the null
// detector scores 0, and the corpus has the windows and labels NAB lists.
func TestCorpusBaselines(t *testing.T) {
	c := loadCorpus(t)
	wins, labels := 0, 0
	for _, f := range c.Files {
		wins += len(f.Windows)
		labels += f.Labels
	}
	if len(c.Files) != 41 || wins != 86 || labels != 89 {
		t.Errorf("corpus: %d files, %d windows, %d labels; want 41, 86, 89", len(c.Files), wins, labels)
	}
	zero := make([][]float64, len(c.Files))
	for i, f := range c.Files {
		zero[i] = make([]float64, len(f.Series.Values))
	}
	res, err := nab.Evaluate(c, zero)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Score != 0 || r.Null != -r.Profile.FN*86 {
			t.Errorf("%s: null detector scores %v (null raw %v)", r.Profile.Name, r.Score, r.Null)
		}
	}
}

// TestDetectorScore is the regression guard of the anomaly detectors: the
// floors sit just under the scores reached (docs/predict.md).
func TestDetectorScore(t *testing.T) {
	c := loadCorpus(t)
	floors := map[string][3]float64{
		"ainka":      {77.2, 71.6, 81.2},
		"stage":      {73.0, 65.1, 77.9},
		"stage-mono": {66.8, 59.3, 71.4},
	}
	for name, floor := range floors {
		res := score(t, c, name)
		for i, r := range res {
			t.Logf("%s %s: %.2f (threshold %.4f)", name, r.Profile.Name, r.Score, r.Threshold)
			if math.IsNaN(r.Score) || r.Score < floor[i] {
				t.Errorf("%s %s: NAB score %.2f, below the guard %.1f", name, r.Profile.Name, r.Score, floor[i])
			}
		}
	}
}
