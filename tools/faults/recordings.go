package faults

import (
	"errors"
	"fmt"
	"slices"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict/alarm"
)

// ErrRecordings reports too few recordings or settings to choose from.
var ErrRecordings = errors.New("cannot cross-validate")

// Recording is one recorded benchmark run: its replayed windows and its
// labels.
type Recording struct {
	Name   string
	Ws     []Window
	Names  []string
	Labels []Fault
	// Exclude (nil: none) takes its clean windows out of the count, as
	// Options.Exclude (the seconds in which other jobs ran: Foreign.At).
	Exclude func(endNs uint64) bool
}

// RecordingFold is one fold of the leave-one-recording-out selection.
type RecordingFold struct {
	HeldOut string
	// Chosen is the setting chosen on the other recordings, Index its
	// place in the grid.
	Chosen alarm.Params
	Index  int
	// Train is how the chosen setting fared on the recordings it was
	// chosen on (summed), HeldOut how it fared on the held-out one.
	TrainDetected, TrainFalseAlarms int
	Result                          Report
}

// CrossRecordings chooses the alarm's setting from grid on all
// recordings but one and scores it on that one, for each recording. A
// recording differs from another in what the host did meanwhile (other
// jobs, external traffic), which a fold within one recording cannot
// show: this is the check that a setting's false-alarm rate generalises.
// The criterion is CrossValidate's, summed over the training recordings:
// detections less three per clean false alarm, then the lowest median
// delay, then the place in grid (the default first keeps a tie). all is
// the index of the setting the criterion picks on every recording (the
// one to ship, judged by the folds).
func CrossRecordings(recs []Recording, grid []alarm.Params, o Options) (folds []RecordingFold, all int, err error) {
	if len(recs) < 2 {
		return nil, 0, fmt.Errorf("cross-recordings: %w: %d recordings, need at least 2", ErrRecordings, len(recs))
	}
	reps, err := reports(recs, grid, o)
	if err != nil {
		return nil, 0, err
	}
	for h := range recs {
		best := Choose(merged(reps, grid, h), -1)
		f := RecordingFold{HeldOut: recs[h].Name, Chosen: grid[best], Index: best, Result: reps[h][best]}
		for r := range recs {
			if r != h {
				f.TrainDetected += detected(reps[r][best])
				f.TrainFalseAlarms += reps[r][best].FalseAlarms
			}
		}
		folds = append(folds, f)
	}
	return folds, Choose(merged(reps, grid, -1), -1), nil
}

// reports scores every setting of grid on every recording: [recording][setting].
func reports(recs []Recording, grid []alarm.Params, o Options) ([][]Report, error) {
	if len(grid) == 0 {
		return nil, fmt.Errorf("cross-recordings: %w: empty grid", ErrRecordings)
	}
	o.Threshold = alarm.Enter
	reps := make([][]Report, len(recs))
	for r, rec := range recs {
		o.Exclude = rec.Exclude
		for g, p := range grid {
			run, err := RunAlarm(rec.Ws, rec.Names, p)
			if err != nil {
				return nil, fmt.Errorf("cross-recordings: %s, setting %d: %w", rec.Name, g, err)
			}
			reps[r] = append(reps[r], Score(run, rec.Names, rec.Labels, Alarm, o))
		}
	}
	return reps, nil
}

// merged concatenates, per setting, the reports of every recording but
// skip into one (faults appended, false alarms summed), which Choose
// judges as one benchmark.
func merged(reps [][]Report, grid []alarm.Params, skip int) []Report {
	out := make([]Report, len(grid))
	for r := range reps {
		if r == skip {
			continue
		}
		for g := range grid {
			out[g].Faults = append(out[g].Faults, reps[r][g].Faults...)
			out[g].FalseAlarms += reps[r][g].FalseAlarms
			out[g].CleanWindows += reps[r][g].CleanWindows
			out[g].CleanMinutes += reps[r][g].CleanMinutes
		}
	}
	return out
}

func detected(r Report) int {
	n := 0
	for _, f := range r.Faults {
		if f.Detected {
			n++
		}
	}
	return n
}

// WideGrid is Grid's neighbourhood (the mean rule's) along the axes that set the false
// alarm rate across recordings: persistence (Smooth), the record factor,
// the least deviation (MinZ), the baseline's learning rate (a slower one
// keeps a wider noise scale after a quiet stretch), the record's decay,
// direction, and the persistence rules Median and Hold. The default
// comes first.
func WideGrid() []alarm.Params {
	g := []alarm.Params{alarm.DefaultParams()}
	for _, rule := range []struct {
		median bool
		hold   int
	}{{false, 1}, {false, 3}, {true, 1}} {
		for _, smooth := range []int{3, 5, 10} {
			for _, factor := range []float64{1.5, 2, 2.5} {
				for _, minZ := range []float64{3, 6} {
					for _, a := range []float64{0.01, 0.003, 0.001} {
						for _, decay := range []float64{0.9995, 0.9999} {
							for _, one := range []bool{false, true} {
								p := alarm.MeanParams()
								p.Median, p.Hold, p.Smooth, p.Factor, p.MinZ, p.Alpha, p.Decay, p.OneSided = rule.median, rule.hold, smooth, factor, minZ, a, decay, one
								if p != g[0] {
									g = append(g, p)
								}
							}
						}
					}
				}
			}
		}
	}
	return g
}

// SustainedGrid is the grid of the sustained-deviation rule
// (alarm.Params.Sustained): how many windows a deviation must last
// (Smooth), the record factor, the least deviation, the baseline's
// learning rate, the record's decay and direction, without the quick
// path. The default comes first.
func SustainedGrid() []alarm.Params {
	g := []alarm.Params{alarm.DefaultParams()}
	for _, smooth := range []int{5, 8, 10, 15} {
		for _, factor := range []float64{1.5, 2, 3} {
			for _, minZ := range []float64{1, 3} {
				for _, a := range []float64{0.01, 0.003} {
					for _, decay := range []float64{0.9995, 0.9999} {
						for _, one := range []bool{false, true} {
							p := alarm.DefaultParams()
							p.Quick, p.QuickFactor = 0, 0
							p.Sustained, p.Smooth, p.Factor, p.MinZ, p.Alpha, p.Decay, p.OneSided = true, smooth, factor, minZ, a, decay, one
							g = append(g, p)
						}
					}
				}
			}
		}
	}
	return g
}

// QuickGrid is the default sustained rule with its two optional paths
// varied: the quick path (alarm.Params.Quick windows at QuickFactor
// times the record) and the PSI floor (alarm.Params.PSIFloor). The
// default comes first.
func QuickGrid() []alarm.Params {
	g := []alarm.Params{alarm.DefaultParams()}
	for _, floor := range []float64{0, 0.25, 0.5, 1} {
		for _, quick := range []int{0, 2, 3, 4, 5} {
			for _, qf := range []float64{4, 6, 9, 12} {
				p := alarm.DefaultParams()
				p.PSIFloor, p.Quick, p.QuickFactor = floor, 0, 0
				if quick > 0 {
					p.Quick, p.QuickFactor = quick, qf
				}
				if !slices.Contains(g, p) {
					g = append(g, p)
				}
			}
		}
	}
	return g
}

// SmoothGrid is the default with the sampled syscall counters averaged
// before they are judged (alarm.Params.Smoothed: none, the error count,
// both counts) over 3 to 20 windows. The default comes first.
func SmoothGrid() []alarm.Params {
	errs := uint64(1) << features.SyscallErrorsPerS
	g := []alarm.Params{alarm.DefaultParams()}
	for _, set := range []uint64{0, errs, errs | 1<<features.SyscallsPerS} {
		for _, span := range []int{3, 5, 10, 20} {
			p := alarm.DefaultParams()
			p.Smoothed, p.Span = set, span
			if set == 0 {
				p.Span = 0
			}
			if !slices.Contains(g, p) {
				g = append(g, p)
			}
		}
	}
	return g
}
