package faults

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict/alarm"
)

// ErrFeature reports a tap feature this build does not know.
var ErrFeature = errors.New("unknown feature")

// RunAlarm recomputes the host alarm over the windows' values with p, as
// the predict stage would have (the stage runs the same alarm.Host on the
// same vectors): a copy of ws with Alarm and AlarmDrivers replaced.
func RunAlarm(ws []Window, names []string, p alarm.Params) ([]Window, error) {
	out := slices.Clone(ws)
	err := replayAlarm(ws, names, p, func(k int, _ *alarm.Host, r alarm.Result) {
		out[k].Alarm, out[k].AlarmDrivers = r.Level, r.Names()
	})
	if err != nil {
		return nil, fmt.Errorf("run alarm: %w", err)
	}
	return out, nil
}

// replayAlarm runs a host alarm with p over the windows' values and
// calls each after every window's update.
func replayAlarm(ws []Window, names []string, p alarm.Params, each func(k int, h *alarm.Host, r alarm.Result)) error {
	if err := p.Validate(); err != nil {
		return err
	}
	ids := make([]features.ID, len(names))
	for i, n := range names {
		id, ok := features.Lookup(n)
		if !ok {
			return fmt.Errorf("%w %q", ErrFeature, n)
		}
		ids[i] = id
	}
	var h alarm.Host
	h.Init(p)
	var x [features.Count]float64
	for k := range ws {
		for i := range x {
			x[i] = math.NaN()
		}
		for i, id := range ids {
			x[id] = ws[k].Values[i]
		}
		each(k, &h, h.Update(&x))
	}
	return nil
}

// Fold is one fold of the leave-one-fault-out cross-validation.
type Fold struct {
	HeldOut string
	Chosen  alarm.Params
	// Result is how the held-out fault fared with the chosen setting.
	Result FaultResult
	// FalseAlarms of the chosen setting on the clean windows.
	FalseAlarms int
}

// CrossValidate chooses the alarm's setting from grid without one fault,
// for each fault the trace holds, and reports how the held-out fault
// fared: a setting is judged by the other faults it detects less three
// per false alarm on the clean windows, then by its median delay on them
// (then by its place in grid). Faults with no windows are not folds.
func CrossValidate(ws []Window, names []string, faults []Fault, grid []alarm.Params, o Options) ([]Fold, error) {
	o.Threshold = alarm.Enter
	reps := make([]Report, len(grid))
	for g, p := range grid {
		run, err := RunAlarm(ws, names, p)
		if err != nil {
			return nil, fmt.Errorf("cross-validate: setting %d: %w", g, err)
		}
		reps[g] = Score(run, names, faults, Alarm, o)
	}
	var folds []Fold
	for k, f := range faults {
		if reps[0].Faults[k].Windows == 0 {
			continue
		}
		best := Choose(reps, k)
		folds = append(folds, Fold{HeldOut: f.Name, Chosen: grid[best], Result: reps[best].Faults[k], FalseAlarms: reps[best].FalseAlarms})
	}
	return folds, nil
}

// Choose is the index of the best report without fault k (k < 0: with
// every fault), by the criterion of CrossValidate.
func Choose(reps []Report, k int) int {
	best, bestObj, bestDelay := 0, math.Inf(-1), time.Duration(math.MaxInt64)
	for g, r := range reps {
		var delays []time.Duration
		for i, f := range r.Faults {
			if i != k && f.Detected {
				delays = append(delays, f.Delay)
			}
		}
		obj := float64(len(delays) - 3*r.FalseAlarms)
		med := median(delays)
		if obj > bestObj || (obj == bestObj && med < bestDelay) {
			best, bestObj, bestDelay = g, obj, med
		}
	}
	return best
}

// median of ds (the upper one of an even count; MaxInt64 when empty).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return time.Duration(math.MaxInt64)
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// Grid is the settings CrossValidate chooses from: the default, then the
// mean rule (alarm.MeanParams) with its persistence (windows averaged), record factor, record decay, noise
// floor, direction and density varied. The default comes first: an exact tie
// (same detections, false alarms and median delay) keeps it.
func Grid() []alarm.Params {
	g := []alarm.Params{alarm.DefaultParams()}
	for _, smooth := range []int{5, 10, 20} {
		for _, factor := range []float64{1.25, 1.5, 2} {
			for _, decay := range []float64{0.999, 0.9995, 0.9999} {
				for _, floor := range []float64{0, 0.01, 0.05} {
					for _, one := range []bool{false, true} {
						for _, dense := range []bool{false, true} {
							p := alarm.MeanParams()
							p.Smooth, p.Factor, p.Decay, p.Floor, p.OneSided, p.Dense = smooth, factor, decay, floor, one, dense
							if p != g[0] {
								g = append(g, p)
							}
						}
					}
				}
			}
		}
	}
	return g
}
