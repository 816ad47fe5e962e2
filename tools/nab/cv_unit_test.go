package nab

import (
	"errors"
	"math"
	"testing"
)

// Two categories, one file each (toyFile: window rows 20–23). Setting X
// detects the anomaly at row 21 in both and has a false positive at 26 in
// B; setting Y misses A and detects B cleanly. Holding out A, B prefers Y,
// which misses A (score 0). Holding out B, A prefers X, which scores
// tpRow9 + fpRow14 on B.
func TestCrossValidateByHand(t *testing.T) {
	a, b := toyFile(), toyFile()
	b.Name, b.Category = "other/b.csv", "other"
	c := &Corpus{Files: []*File{a, b}}
	hit := func(rows ...int) []float64 {
		s := make([]float64, 60)
		for _, r := range rows {
			s[r] = 0.9
		}
		return s
	}
	settings := []Setting{
		{"X", [][]float64{hit(21), hit(21, 26)}},
		{"Y", [][]float64{hit(), hit(21)}},
	}
	cv, err := CrossValidate(c, settings)
	if err != nil {
		t.Fatal(err)
	}
	if len(cv.Folds) != 2 || cv.Folds[0].Chosen != "Y" || cv.Folds[1].Chosen != "X" {
		t.Fatalf("folds %+v: want A with Y chosen, B with X chosen", cv.Folds)
	}
	fa, fb := cv.Folds[0], cv.Folds[1]
	if !near(fa.Score[0], 0) || !near(fa.Raw[0], -1) {
		t.Errorf("held-out A: raw %v score %v, want -1 and 0", fa.Raw[0], fa.Score[0])
	}
	wantB := 100 * (tpRow9 + fpRow14 + 1) / 2
	if !near(fb.Raw[0], tpRow9+fpRow14) || math.Abs(fb.Score[0]-wantB) > 1e-3 || fb.Threshold[0] != 0.9 {
		t.Errorf("held-out B: raw %v score %v threshold %v, want %v, %v, 0.9", fb.Raw[0], fb.Score[0], fb.Threshold[0], tpRow9+fpRow14, wantB)
	}
	if want := 100 * (-1 + tpRow9 + fpRow14 + 2) / 4; math.Abs(cv.Score[0]-want) > 1e-3 {
		t.Errorf("overall %v, want %v", cv.Score[0], want)
	}
	if _, err := CrossValidate(c, nil); !errors.Is(err, ErrScores) {
		t.Errorf("no settings: %v", err)
	}
	if _, err := CrossValidate(c, []Setting{{"short", [][]float64{hit()}}}); !errors.Is(err, ErrScores) {
		t.Errorf("scores for one file of two: %v", err)
	}
}
