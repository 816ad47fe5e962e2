package faults

import (
	"math"
	"sort"
	"time"

	"github.com/ainka/ainka/stages/predict/alarm"
	"github.com/ainka/ainka/tools/nab"
)

// Host is a host-level score of one window (what a person is alerted by).
type Host func(w *Window) float64

// Joint is the joint (multivariate) score.
func Joint(w *Window) float64 { return w.Joint }

// Alarm is the host-level alarm (the predict stage's "alarm").
func Alarm(w *Window) float64 { return w.Alarm }

// Scored is a host-level score with the threshold it alarms at.
type Scored struct {
	Name      string
	Host      Host
	Threshold float64
}

// HostScores are the host-level scores the benchmark reports: the joint
// score at one alarm point (JointAlarm), the highest feature score at
// the detectors' alarm level (0.65), and the host alarm at its own
// (alarm.Enter).
func HostScores() []Scored {
	return []Scored{{"joint", Joint, JointAlarm}, {"max-feature", MaxFeature, 0.65}, {"alarm", Alarm, alarm.Enter}}
}

// JointAlarm is the joint score of one feature's lasting deviation at
// its alarm point (alarm.Result.Joint's unit).
const JointAlarm = 1.0

// MaxFeature is the highest feature score.
func MaxFeature(w *Window) float64 {
	m := 0.0
	for _, s := range w.Scores {
		if s > m {
			m = s
		}
	}
	return m
}

// Options set what counts as an alarm and as clean.
type Options struct {
	Threshold float64
	// Warmup windows at the start are neither fault nor clean (the
	// detectors are learning).
	Warmup int
	// Recovery after a fault's end is not clean either (the host and the
	// baselines settle).
	Recovery time.Duration
	// Exclude (nil: none) takes clean windows out of the count, by their
	// end: seconds in which other jobs ran (Foreign.At), whose load the
	// labels would otherwise call clean.
	Exclude func(endNs uint64) bool
}

// FaultResult is how one fault was seen.
type FaultResult struct {
	Fault
	// Windows is the number of windows inside the fault (0: the trace
	// ended before it).
	Windows  int
	Detected bool
	Delay    time.Duration // from the fault's start to the end of the first alarming window
	MaxScore float64       // the host score's maximum inside the fault
	// Drivers are the features with the highest scores in the first
	// alarming window (at most three), best first; AlarmDrivers those the
	// host alarm named there.
	Drivers, AlarmDrivers []string
}

// Report is the benchmark's outcome for one host score.
type Report struct {
	Faults       []FaultResult
	CleanWindows int
	CleanMinutes float64
	// FalseAlarms are alarm onsets (a window at or above the threshold
	// after one below it) in clean windows.
	FalseAlarms int
	CleanP99    float64 // the host score's 99th percentile on clean windows
	NAB         float64 // NAB standard score at Threshold, one row per window
}

// Score evaluates host over the windows against the faults.
func Score(ws []Window, names []string, faults []Fault, host Host, o Options) Report {
	var r Report
	label := labelWindows(ws, faults, o)
	var clean []float64
	prev := 0.0
	for i := range ws {
		s := host(&ws[i])
		if label[i] == -1 && !math.IsNaN(s) {
			clean = append(clean, s)
			if s >= o.Threshold && !(prev >= o.Threshold) {
				r.FalseAlarms++
			}
		}
		prev = s
	}
	r.CleanWindows = len(clean)
	if len(ws) > 1 {
		step := float64(ws[len(ws)-1].EndNs-ws[0].EndNs) / float64(len(ws)-1)
		r.CleanMinutes = float64(len(clean)) * step / 60e9
	}
	r.CleanP99 = quantile(clean, 0.99)
	for k, f := range faults {
		fr := FaultResult{Fault: f}
		for i := range ws {
			if label[i] != k {
				continue
			}
			s := host(&ws[i])
			fr.Windows++
			fr.MaxScore = math.Max(fr.MaxScore, s)
			if !fr.Detected && s >= o.Threshold {
				fr.Detected = true
				fr.Delay = time.Duration(ws[i].EndNs - f.StartNs)
				fr.Drivers = drivers(&ws[i], names, 3)
				fr.AlarmDrivers = ws[i].AlarmDrivers
			}
		}
		r.Faults = append(r.Faults, fr)
	}
	r.NAB = nabScore(ws, faults, host, o.Threshold)
	return r
}

// drivers names the n features with the highest scores in w.
func drivers(w *Window, names []string, n int) []string {
	idx := make([]int, 0, len(names))
	for i, s := range w.Scores {
		if s > 0 {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return w.Scores[idx[a]] > w.Scores[idx[b]] })
	var out []string
	for _, i := range idx[:min(n, len(idx))] {
		out = append(out, names[i])
	}
	return out
}

// quantile is the q-quantile of xs (nearest rank; NaN when empty).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1)]
}

// nabScore scores the host score with NAB's standard profile at threshold
// t: one row per window, one label window per fault.
func nabScore(ws []Window, faults []Fault, host Host, t float64) float64 {
	s := &nab.Series{}
	scores := make([]float64, len(ws))
	t0 := time.Unix(0, 0).UTC()
	for i := range ws {
		tm := t0.Add(time.Duration(ws[i].EndNs))
		s.Times = append(s.Times, tm)
		s.Raw = append(s.Raw, tm.Format(time.DateTime))
		s.Values = append(s.Values, 0)
		if v := host(&ws[i]); !math.IsNaN(v) {
			scores[i] = v
		}
	}
	f := &nab.File{Name: "faults", Category: "faults", Series: s, Labels: len(faults)}
	for _, fl := range faults {
		w := nab.Window{Start: -1}
		for i := range ws {
			if ws[i].EndNs > fl.StartNs && ws[i].EndNs <= fl.EndNs {
				if w.Start < 0 {
					w.Start = i
				}
				w.End = i
			}
		}
		if w.Start >= 0 {
			f.Windows = append(f.Windows, w)
		}
	}
	raw, _, err := nab.FileScore(f, scores, nab.Standard, t)
	if err != nil {
		return math.NaN()
	}
	null, _, _ := nab.FileScore(f, make([]float64, len(scores)), nab.Standard, 1.1)
	perfect := nab.Standard.TP * float64(len(f.Windows))
	return 100 * (raw - null) / (perfect - null)
}

// labelWindows labels each window: the index of the fault it lies in, -1
// clean, -2 neither (warm-up, a fault's recovery, or excluded).
func labelWindows(ws []Window, faults []Fault, o Options) []int {
	label := make([]int, len(ws))
	for i := range ws {
		label[i] = -1
		if i < o.Warmup {
			label[i] = -2
		}
		for k, f := range faults {
			switch end := ws[i].EndNs; {
			case end > f.StartNs && end <= f.EndNs:
				label[i] = k
			case end > f.EndNs && end <= f.EndNs+uint64(o.Recovery):
				label[i] = -2
			}
		}
		if label[i] == -1 && o.Exclude != nil && o.Exclude(ws[i].EndNs) {
			label[i] = -2
		}
	}
	return label
}
