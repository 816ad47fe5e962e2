package faults

import (
	"fmt"
	"math"
	"slices"
)

// Level is how a feature's raw values are summarised over a span of
// windows: their minimum (the level every window reached: what a
// lasting rise is) or their mean (what a sampled counter's lone heavy
// samples add up to).
type Level int

const (
	Min Level = iota
	Mean
)

func (l Level) String() string { return [...]string{"min", "mean"}[l] }

// Evidence is, for one feature and span, the largest summarised value
// on the clean windows and inside each fault: whether the feature's
// raw values show the fault at all, independently of any detector's
// baseline, record or noise scale.
type Evidence struct {
	Feature string
	Level   Level
	Span    int
	Clean   float64
	// Inside is per fault of the labels (NaN: no window of it was
	// summarised, e.g. the trace ended first).
	Inside []float64
}

// Show is Inside[k] over Clean: above 1 the fault's span reached a level
// no clean span did.
func (e Evidence) Show(k int) float64 { return e.Inside[k] / e.Clean }

// Levels summarises feature over each run of span windows ending at
// every window (a run with a missing value is skipped) and reports the
// largest on the clean windows and inside each fault (labelled by the
// run's last window, as Score labels alarms).
func Levels(ws []Window, names []string, labels []Fault, o Options, feature string, l Level, span int) (Evidence, error) {
	col := slices.Index(names, feature)
	if col < 0 {
		return Evidence{}, fmt.Errorf("levels: %w %q", ErrFeature, feature)
	}
	if span < 1 || l < Min || l > Mean {
		return Evidence{}, fmt.Errorf("levels: span %d or level %d out of range", span, l)
	}
	e := Evidence{Feature: feature, Level: l, Span: span, Clean: math.NaN(), Inside: make([]float64, len(labels))}
	for k := range e.Inside {
		e.Inside[k] = math.NaN()
	}
	label := labelWindows(ws, labels, o)
	for w := span - 1; w < len(ws); w++ {
		v, ok := summarise(ws[w-span+1:w+1], col, l)
		switch {
		case !ok:
		case label[w] == -1:
			e.Clean = nanMax(e.Clean, v)
		case label[w] >= 0:
			e.Inside[label[w]] = nanMax(e.Inside[label[w]], v)
		}
	}
	return e, nil
}

// summarise is the minimum or mean of column col over ws; false when a
// value is missing.
func summarise(ws []Window, col int, l Level) (float64, bool) {
	lo, sum := math.Inf(1), 0.0
	for i := range ws {
		v := ws[i].Values[col]
		if math.IsNaN(v) {
			return 0, false
		}
		lo, sum = math.Min(lo, v), sum+v
	}
	if l == Min {
		return lo, true
	}
	return sum / float64(len(ws)), true
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) {
		return b
	}
	return math.Max(a, b)
}
