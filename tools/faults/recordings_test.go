package faults

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ainka/ainka/stages/predict/alarm"
)

// recording is 1000 windows of 100 ms of one feature's noise with a
// lasting rise (a fault) at 60–70 s, and one-window bursts at the given
// windows.
func recording(name string, bursts ...int) Recording {
	r := rand.New(rand.NewPCG(9, 10))
	rec := Recording{Name: name, Names: []string{"syscalls_per_s"},
		Labels: []Fault{{Name: "rise", StartNs: 60e9, EndNs: 70e9}}}
	for i := 1; i <= 1000; i++ {
		v := 100 + 5*r.NormFloat64()
		if i > 600 && i <= 700 {
			v += 60
		}
		for _, b := range bursts {
			if i == b {
				v += 1000
			}
		}
		rec.Ws = append(rec.Ws, Window{EndNs: uint64(i) * 100e6, Values: []float64{v}, Scores: []float64{0}})
	}
	return rec
}

// Two settings: the mean rule (burst-sensitive), and one that never alarms. On the quiet
// recording the default catches the rise with no false alarm; on the
// bursty one a burst is its false alarm (and the rise then sits under
// the burst's record), so never alarming scores better there. Each
// recording held out gets the other's choice; on both together the
// false alarm outweighs the one detection.
func TestCrossRecordings(t *testing.T) {
	never := alarm.MeanParams()
	never.Factor = 1e12
	grid := []alarm.Params{alarm.MeanParams(), never}
	recs := []Recording{recording("quiet"), recording("bursty", 400, 850)}
	o := Options{Warmup: 300, Recovery: 10e9}
	folds, all, err := CrossRecordings(recs, grid, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(folds) != 2 {
		t.Fatalf("%d folds", len(folds))
	}
	quiet, bursty := folds[0], folds[1]
	if quiet.HeldOut != "quiet" || quiet.Index != 1 || quiet.Result.Faults[0].Detected || quiet.TrainFalseAlarms != 0 {
		t.Errorf("quiet held out: %+v; want the never-alarming setting chosen on bursty, the rise missed", quiet)
	}
	if bursty.HeldOut != "bursty" || bursty.Index != 0 || bursty.Result.FalseAlarms < 1 || bursty.TrainDetected != 1 {
		t.Errorf("bursty held out: %+v; want the default chosen on quiet, a false alarm on bursty", bursty)
	}
	if all != 1 {
		t.Errorf("chosen on all: %d, want 1", all)
	}
}

func TestCrossRecordingsBadInput(t *testing.T) {
	o := Options{Warmup: 300}
	if _, _, err := CrossRecordings([]Recording{recording("one")}, Grid(), o); !errors.Is(err, ErrRecordings) {
		t.Errorf("one recording: %v, want ErrRecordings", err)
	}
	if _, _, err := CrossRecordings([]Recording{recording("a"), recording("b")}, nil, o); !errors.Is(err, ErrRecordings) {
		t.Errorf("empty grid: %v, want ErrRecordings", err)
	}
	bad := recording("a")
	bad.Names = []string{"no_such_feature"}
	if _, _, err := CrossRecordings([]Recording{bad, recording("b")}, Grid(), o); !errors.Is(err, ErrFeature) {
		t.Errorf("unknown feature: %v, want ErrFeature", err)
	}
	for name, g := range map[string][]alarm.Params{"wide": WideGrid(), "sustained": SustainedGrid(), "quick": QuickGrid()} {
		if g[0] != alarm.DefaultParams() {
			t.Errorf("%s grid: the default is not first", name)
		}
		for _, p := range g {
			if err := p.Validate(); err != nil {
				t.Fatalf("%s grid: %+v: %v", name, p, err)
			}
		}
	}
	// QuickGrid holds the sustained rule without both paths (the earlier
	// default), for the comparison.
	plain := alarm.DefaultParams()
	plain.Quick, plain.QuickFactor = 0, 0
	if !slices.Contains(QuickGrid(), plain) {
		t.Error("quick grid lacks the sustained rule without the quick path")
	}
}

// SmoothGrid starts with the default, holds the rule without any
// averaging, and every setting is valid.
func TestSmoothGrid(t *testing.T) {
	g := SmoothGrid()
	if g[0] != alarm.DefaultParams() {
		t.Errorf("first setting %+v, not the default", g[0])
	}
	plain := false
	for _, p := range g {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
		plain = plain || p.Smoothed == 0
	}
	if !plain || len(g) < 9 {
		t.Errorf("%d settings, one without averaging %v; want ≥ 9 and true", len(g), plain)
	}
}
