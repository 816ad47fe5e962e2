package tune

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Trial is a phased trial as the model file keeps it: a phase that ends
// pauses its trial (phase.go), and the trial must go on where it was
// when the phase returns, in this daemon or in the next one. Before they
// were kept, each start of the daemon (each bench run) learned its
// phases afresh, and phases shorter than a trial never reached their
// best.
type Trial struct {
	Target string    `json:"target"`
	Arms   []string  `json:"arms"` // checked on resume: another original means other arms
	Order  []int     `json:"order,omitempty"`
	Pulls  []int     `json:"pulls"`
	Reward []float64 `json:"reward"`
	SE2    []float64 `json:"se2"`
	// Held: arms measured before the original, waiting for its measure.
	Held   []bool    `json:"held,omitempty"`
	HeldM  []float64 `json:"held_mean,omitempty"`
	HeldSE []float64 `json:"held_se,omitempty"`
	Arm    int       `json:"arm"` // the arm being measured when paused
	Base   float64   `json:"base"`
	HaveB  bool      `json:"have_base"`
	Steps  int       `json:"steps"`
	Sum    float64   `json:"sum"`
	Sq     float64   `json:"sq"`
	N      int       `json:"n"`
	DoneNs uint64    `json:"done_ns"`
	AtNs   uint64    `json:"at_ns"`
}

// maxTrials bounds the trials a model file holds (every tuner's paused
// trials).
const maxTrials = 4 * maxPaused

// snapshot is what the active trial has measured by now.
func (t *tuner) snapshot(s *Stage, now uint64) pausedTrial {
	p := pausedTrial{key: t.tg.key, at: now, arms: t.arms, b: t.b, arm: t.arm, base: t.base, haveB: t.haveB,
		steps: t.steps, sum: t.sum, sq: t.sq, n: t.n, done: t.done}
	if now > t.since+s.windowNs {
		p.done = t.done + now - t.since - s.windowNs
	}
	return p
}

// store keeps p among the paused trials, replacing the one of its
// target, else the least recently paused when full.
func (t *tuner) store(p pausedTrial) {
	i := 0
	for ; i < len(t.paused) && t.paused[i].key != p.key; i++ {
	}
	switch {
	case i < len(t.paused):
	case len(t.paused) < maxPaused:
		t.paused = append(t.paused, pausedTrial{})
	default:
		i = 0
		for j := range t.paused {
			if t.paused[j].at < t.paused[i].at {
				i = j
			}
		}
	}
	t.paused[i] = p
}

// trials lists what the model file keeps of the phased tuners' trials:
// the paused ones and the one running now (a daemon stopping in the
// middle of a phase goes on with it next time).
func (s *Stage) trials() []Trial {
	var out []Trial
	for _, t := range s.tuners {
		if _, ok := t.fam.(phased); !ok {
			continue
		}
		running := t.active && !t.exploit && t.mode == Act
		for i := range t.paused {
			if !running || t.paused[i].key != t.tg.key {
				out = append(out, t.paused[i].export())
			}
		}
		if running {
			p := t.snapshot(s, s.now)
			out = append(out, p.export())
		}
	}
	return out
}

// restore gives each phased tuner its trials from the model file.
func (s *Stage) restore(trials []Trial) {
	for _, tr := range trials {
		for _, t := range s.tuners {
			if _, ok := t.fam.(phased); ok && strings.HasPrefix(tr.Target, t.fam.name()+"/") && len(t.paused) < maxPaused {
				t.paused = append(t.paused, tr.paused())
			}
		}
	}
}

func (p *pausedTrial) export() Trial {
	n := p.b.n
	tr := Trial{Target: p.key, Arms: p.arms, Pulls: make([]int, n), Reward: make([]float64, n), SE2: make([]float64, n),
		Arm: p.arm, Base: p.base, HaveB: p.haveB, Steps: p.steps, Sum: p.sum, Sq: p.sq, N: p.n, DoneNs: p.done, AtNs: p.at}
	for a := 0; a < n; a++ {
		tr.Pulls[a], tr.Reward[a], tr.SE2[a] = p.b.pulls[a], p.b.reward[a], finite(p.b.se2[a])
		if p.b.ordered {
			tr.Order = append(tr.Order, int(p.b.order[a]))
		}
		if p.b.held[a] {
			tr.Held, tr.HeldM, tr.HeldSE = make([]bool, n), make([]float64, n), make([]float64, n)
		}
	}
	for a := 0; tr.Held != nil && a < n; a++ {
		tr.Held[a], tr.HeldM[a], tr.HeldSE[a] = p.b.held[a], p.b.heldM[a], finite(p.b.heldSE[a])
	}
	return tr
}

// finite: JSON has no infinity; a standard error not known yet (one
// sample) is infinite and is kept as the largest float, which ranks and
// separates arms the same.
func finite(x float64) float64 {
	return math.Max(-math.MaxFloat64, math.Min(math.MaxFloat64, x))
}

// paused is the trial as the tuner runs it (tr checked).
func (tr *Trial) paused() pausedTrial {
	n := len(tr.Arms)
	p := pausedTrial{key: tr.Target, at: tr.AtNs, arms: tr.Arms, arm: tr.Arm, base: tr.Base, haveB: tr.HaveB,
		steps: tr.Steps, sum: tr.Sum, sq: tr.Sq, n: tr.N, done: tr.DoneNs}
	p.b.n = n
	for a := 0; a < n; a++ {
		p.b.pulls[a], p.b.reward[a], p.b.se2[a] = tr.Pulls[a], tr.Reward[a], tr.SE2[a]
		if tr.Held != nil {
			p.b.held[a], p.b.heldM[a], p.b.heldSE[a] = tr.Held[a], tr.HeldM[a], tr.HeldSE[a]
		}
	}
	if tr.Order != nil {
		p.b.setOrder(tr.Order)
	}
	return p
}

// check says what is wrong with a trial read from a model file.
func (tr *Trial) check() error {
	n := len(tr.Arms)
	switch {
	case tr.Target == "":
		return fmt.Errorf("trial without a target")
	case n < 2 || n > MaxArms:
		return fmt.Errorf("trial %s: %d settings, want 2..%d", tr.Target, n, MaxArms)
	case len(tr.Pulls) != n || len(tr.Reward) != n || len(tr.SE2) != n:
		return fmt.Errorf("trial %s: %d settings but %d/%d/%d counts", tr.Target, n, len(tr.Pulls), len(tr.Reward), len(tr.SE2))
	case tr.Held != nil && (len(tr.Held) != n || len(tr.HeldM) != n || len(tr.HeldSE) != n):
		return fmt.Errorf("trial %s: held measures for %d settings, want %d", tr.Target, len(tr.Held), n)
	case tr.Order != nil && len(tr.Order) != n:
		return fmt.Errorf("trial %s: order of %d settings, want %d", tr.Target, len(tr.Order), n)
	case tr.Arm < 0 || tr.Arm >= n:
		return fmt.Errorf("trial %s: setting %d of %d", tr.Target, tr.Arm, n)
	case tr.Steps < 0 || tr.N < 0:
		return fmt.Errorf("trial %s: negative count", tr.Target)
	}
	for a, k := range tr.Pulls {
		if k < 0 {
			return fmt.Errorf("trial %s: setting %d measured %d times", tr.Target, a, k)
		}
	}
	for a, o := range tr.Order {
		if o < 0 || o >= n || slices.Index(tr.Order, o) != a {
			return fmt.Errorf("trial %s: order %v is not a permutation", tr.Target, tr.Order)
		}
	}
	return nil
}
