package nab

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Profile is one of NAB's application profiles (its cost matrix). NAB's
// true-negative weight never enters the score, so it is not kept.
type Profile struct {
	Name       string
	TP, FP, FN float64
}

// The three profiles of NAB's config/profiles.json.
var (
	Standard = Profile{Name: "standard", TP: 1.0, FP: 0.11, FN: 1.0}
	LowFP    = Profile{Name: "reward_low_FP_rate", TP: 1.0, FP: 0.22, FN: 1.0}
	LowFN    = Profile{Name: "reward_low_FN_rate", TP: 1.0, FP: 0.11, FN: 2.0}
	Profiles = []Profile{Standard, LowFP, LowFN}
)

// ErrScores reports a score slice that does not match its file.
var ErrScores = errors.New("scores do not match the corpus")

// ScaledSigmoid is NAB's weighting of a detection at relative position p:
// -1 is a window's left edge (0.9866), 0 its right edge (0), positive values
// lie after it; p >= 3 is -1.
func ScaledSigmoid(p float64) float64 {
	if p >= 3 {
		return -1
	}
	return 2/(1+math.Exp(5*p)) - 1
}

// ProbationLength is the number of leading rows NAB does not score.
func ProbationLength(rows int) int {
	return int(math.Min(math.Floor(0.15*float64(rows)), 0.15*5000))
}

// row is one scorable row: its anomaly score, the weight a detection there
// earns (positive in a window, negative outside), and its window (global
// index, or -1 outside every window).
type row struct {
	score, sweep float64
	win          int
}

// sweep mirrors NAB's Sweeper.calcSweepScore: it appends the scorable rows
// of f and returns how many windows have at least one scorable row.
func sweep(f *File, scores []float64, p Profile, winBase int, dst []row) ([]row, int) {
	maxTP := ScaledSigmoid(-1)
	prob := ProbationLength(len(scores))
	next := 0
	cur := -1 // index into f.Windows of the window we are in
	prevRight, prevWidth := -1, 0.0
	seen := 0
	lastWin := -1
	for i, sc := range scores {
		if cur < 0 && next < len(f.Windows) && i == f.Windows[next].Start {
			cur = next
			next++
		}
		var w float64
		win := -1
		if cur >= 0 {
			width := float64(f.Windows[cur].End - f.Windows[cur].Start + 1)
			pos := -float64(f.Windows[cur].End-i+1) / width
			w = ScaledSigmoid(pos) * p.TP / maxTP
			win = winBase + cur
		} else {
			pos := 3.0
			if prevRight >= 0 {
				if prevWidth > 1 {
					pos = math.Abs(float64(prevRight-i)) / (prevWidth - 1)
				}
			}
			w = ScaledSigmoid(pos) * p.FP
		}
		if i >= prob {
			dst = append(dst, row{score: sc, sweep: w, win: win})
			if win >= 0 && win != lastWin {
				seen++ // windows are visited in order, each once
				lastWin = win
			}
		}
		if cur >= 0 && i == f.Windows[cur].End {
			prevRight = i
			prevWidth = float64(f.Windows[cur].End - f.Windows[cur].Start + 1)
			cur = -1
		}
	}
	return dst, seen
}

// Counts are NAB's per-row confusion counts over the scored rows.
type Counts struct{ TP, FP, FN, TN int }

// FileScore is the raw score of one file at threshold t (a row is a
// detection when its score >= t).
func FileScore(f *File, scores []float64, p Profile, t float64) (float64, Counts, error) {
	if len(scores) != len(f.Series.Values) {
		return 0, Counts{}, fmt.Errorf("%s: %d scores for %d rows: %w", f.Name, len(scores), len(f.Series.Values), ErrScores)
	}
	rows, _ := sweep(f, scores, p, 0, nil)
	// best[w] is window w's value; NaN until a scorable row of it is seen
	// (a window entirely in the probationary period does not count).
	best := make([]float64, len(f.Windows))
	for i := range best {
		best[i] = math.NaN()
	}
	var c Counts
	raw := 0.0
	for _, r := range rows {
		det := r.score >= t
		if r.win >= 0 && math.IsNaN(best[r.win]) {
			best[r.win] = -p.FN
		}
		switch {
		case r.win < 0 && det:
			c.FP++
			raw += r.sweep
		case r.win < 0:
			c.TN++
		case det:
			c.TP++
			best[r.win] = math.Max(best[r.win], r.sweep)
		default:
			c.FN++
		}
	}
	for _, v := range best {
		if !math.IsNaN(v) {
			raw += v
		}
	}
	return raw, c, nil
}

// Optimize returns the corpus-wide threshold with the highest total raw
// score for profile p (NAB's optimizeThreshold over the sweep), the raw
// score there, and the raw score of NAB's null detector (a constant score,
// itself thresholded optimally: the better of never firing and always
// firing).
func Optimize(c *Corpus, scores [][]float64, p Profile) (threshold, raw, null float64, err error) {
	if len(scores) != len(c.Files) {
		return 0, 0, 0, fmt.Errorf("%d score series for %d files: %w", len(scores), len(c.Files), ErrScores)
	}
	var rows []row
	nwin := 0
	for i, f := range c.Files {
		if len(scores[i]) != len(f.Series.Values) {
			return 0, 0, 0, fmt.Errorf("%s: %d scores for %d rows: %w", f.Name, len(scores[i]), len(f.Series.Values), ErrScores)
		}
		rows, _ = sweep(f, scores[i], p, nwin, rows)
		nwin += len(f.Windows)
	}
	// Windows that have no scorable row never enter NAB's sum.
	winVal := make([]float64, nwin)
	inSum := make([]bool, nwin)
	total := 0.0
	for _, r := range rows {
		if r.win >= 0 && !inSum[r.win] {
			inSum[r.win] = true
			winVal[r.win] = -p.FN
			total -= p.FN
		}
	}
	never := total
	sort.SliceStable(rows, func(a, b int) bool { return rows[a].score > rows[b].score })
	cur := 1.1
	bestT, bestS := cur, total
	for _, r := range rows {
		if r.score != cur {
			if total > bestS {
				bestT, bestS = cur, total
			}
			cur = r.score
		}
		if r.win < 0 {
			total += r.sweep
		} else if r.sweep > winVal[r.win] {
			total += r.sweep - winVal[r.win]
			winVal[r.win] = r.sweep
		}
	}
	if total > bestS {
		bestT, bestS = cur, total
	}
	// After the loop every row is a detection: that is the constant
	// detector with threshold at its value.
	return bestT, bestS, math.Max(never, total), nil
}

// Result is one profile's outcome on a corpus.
type Result struct {
	Profile    Profile
	Threshold  float64
	Raw        float64
	Null       float64
	Perfect    float64
	Score      float64 // normalised: 100*(Raw-Null)/(Perfect-Null)
	Categories []CategoryResult
	Files      []FileResult
}

// CategoryResult sums the files of one category at the corpus threshold.
// Score is NaN for a category without labelled anomalies (its Raw is then
// the cost of its false positives).
type CategoryResult struct {
	Category           string
	Raw, Null, Perfect float64
	Score              float64
	Counts             Counts
}

// FileResult is one file at the corpus threshold.
type FileResult struct {
	Name     string
	Raw      float64
	Counts   Counts
	Detected int     // windows with a detection
	Windows  int     // scorable windows
	FPCost   float64 // sum of the false positives' (negative) weights
}

// Evaluate scores a detector's output for every profile.
func Evaluate(c *Corpus, scores [][]float64) ([]Result, error) {
	out := make([]Result, 0, len(Profiles))
	for _, p := range Profiles {
		t, raw, null, err := Optimize(c, scores, p)
		if err != nil {
			return nil, err
		}
		labels := 0
		for _, f := range c.Files {
			labels += f.Labels
		}
		res := Result{Profile: p, Threshold: t, Raw: raw, Null: null, Perfect: p.TP * float64(labels)}
		res.Score = normalise(raw, res.Null, res.Perfect)
		nullT := 1.1
		if res.Null > -p.FN*float64(nwindows(c, scores)) {
			nullT = 0
		}
		cats := map[string]*CategoryResult{}
		var order []string
		for i, f := range c.Files {
			fr, cnt, err := FileScore(f, scores[i], p, t)
			if err != nil {
				return nil, err
			}
			det, nw, fpc := detail(f, scores[i], p, t)
			res.Files = append(res.Files, FileResult{Name: f.Name, Raw: fr, Counts: cnt, Detected: det, Windows: nw, FPCost: fpc})
			cr, ok := cats[f.Category]
			if !ok {
				cr = &CategoryResult{Category: f.Category}
				cats[f.Category] = cr
				order = append(order, f.Category)
			}
			cr.Raw += fr
			// The null detector at its own corpus threshold: never firing
			// unless always firing scored better.
			zero := make([]float64, len(f.Series.Values))
			nr, _, _ := FileScore(f, zero, p, nullT)
			cr.Null += nr
			cr.Perfect += p.TP * float64(f.Labels)
			cr.Counts.TP += cnt.TP
			cr.Counts.FP += cnt.FP
			cr.Counts.FN += cnt.FN
			cr.Counts.TN += cnt.TN
		}
		for _, name := range order {
			cr := cats[name]
			cr.Score = normalise(cr.Raw, cr.Null, cr.Perfect)
			res.Categories = append(res.Categories, *cr)
		}
		out = append(out, res)
	}
	return out, nil
}

func normalise(raw, null, perfect float64) float64 {
	if perfect == null {
		return math.NaN()
	}
	return 100 * (raw - null) / (perfect - null)
}

// nwindows counts the windows with at least one scorable row.
func nwindows(c *Corpus, scores [][]float64) int {
	n := 0
	for i, f := range c.Files {
		_, k := sweep(f, scores[i], Standard, 0, nil)
		n += k
	}
	return n
}

// detail counts detected windows and sums false-positive costs.
func detail(f *File, scores []float64, p Profile, t float64) (detected, windows int, fpCost float64) {
	rows, n := sweep(f, scores, p, 0, nil)
	hit := make([]bool, len(f.Windows))
	for _, r := range rows {
		if r.score < t {
			continue
		}
		if r.win < 0 {
			fpCost += r.sweep
		} else if !hit[r.win] {
			hit[r.win] = true
			detected++
		}
	}
	return detected, n, fpCost
}
