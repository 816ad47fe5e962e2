package decide

import (
	"math"

	"github.com/ainka/ainka/stages/features"
)

// effects measures what an action did to its policy's objective: the
// objective before the action against the objective after it has settled.
type effects struct {
	hist   *history
	settle uint64 // after an action, before measuring
	window uint64 // length of the before and after windows
}

// pendingEffect is an action whose after-window is not complete yet.
type pendingEffect struct {
	atNs   uint64 // when the action was decided
	before summary
}

// judgement is one measured action.
type judgement struct {
	expected float64 // the objective had the action not been taken
	after    float64 // the objective after it
	score    float64 // relative improvement in [-1, 1], 0 if within noise
}

// baseline takes the before-window of an action decided at now.
func (e *effects) baseline(obj features.ID, now uint64) pendingEffect {
	from := now - min(now, e.window)
	return pendingEffect{atNs: now, before: e.hist.summarize(obj, from, now)}
}

// due reports whether p's after-window is complete at now.
func (e *effects) due(p pendingEffect, now uint64) bool {
	return now >= p.atNs+e.settle+e.window
}

// judge scores one action: the objective after it against what it would
// have been without it (the before-window mean carried along its own
// trend when that trend is significant, so that drift is not credited to
// the action and a noisy slope cannot invent an effect), counted only if
// the difference stands out of the noise (Welch's t ≥ 2). ok is false
// when either window has too few values to judge.
func (e *effects) judge(p pendingEffect, obj features.ID, maximize bool) (j judgement, ok bool) {
	from := p.atNs + e.settle
	a := e.hist.summarize(obj, from, from+e.window)
	b := p.before
	if a.n < 2 || b.n < 2 {
		return judgement{}, false
	}
	expected := b.mean + b.slope*(a.mid-b.mid)
	diff := expected - a.mean
	if maximize {
		diff = -diff
	}
	score := 0.0
	se := math.Sqrt(b.variance/float64(b.n) + a.variance/float64(a.n))
	if se == 0 || math.Abs(expected-a.mean)/se >= 2 {
		den := math.Max(math.Abs(expected), 1e-9)
		score = math.Max(-1, math.Min(1, diff/den))
	}
	return judgement{expected: expected, after: a.mean, score: score}, true
}

// effectRecord is a policy's running effect score.
type effectRecord struct {
	score   float64 // NaN before the first measurement
	n       int
	pending []pendingEffect
}

func newEffectRecord() effectRecord { return effectRecord{score: math.NaN()} }

// add folds one measurement into the running score (an even blend of the
// old score and the new one, so recent actions count most).
func (r *effectRecord) add(score float64) {
	if r.n == 0 || math.IsNaN(r.score) {
		r.score = score
	} else {
		r.score = 0.5*r.score + 0.5*score
	}
	r.n++
}
