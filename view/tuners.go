package view

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ainka/ainka/stages/actuate"
)

// Tuner is one tuner: what it follows, what it tries and what it measured.
type Tuner struct {
	Name      string  `json:"name"`
	Mode      string  `json:"mode"`  // off, advise, act
	State     string  `json:"state"` // idle, exploring, settled, advising
	Objective string  `json:"objective"`
	Target    string  `json:"target,omitempty"`
	Class     string  `json:"class,omitempty"`
	Setting   string  `json:"setting,omitempty"`
	Steps     int     `json:"steps"`
	GainPct   float64 `json:"gain_pct"` // measured gain of its objective
	Changes   int     `json:"changes"`
	Why       string  `json:"why,omitempty"`
}

// tunerGains are the gains of the tuners that made changes in rs and have
// settled on a setting, by their policy name ("tuner:cpu"): a settled
// tuner's changes apply what it measured best. An exploring tuner's gain
// is its previous target's, so its trials get none. Tuners' status is
// read only for a batch with a tuner's change in it.
func (r *Recorder) tunerGains(rs []actuate.Result) map[string]string {
	if r.src.Tuners == nil || !slices.ContainsFunc(rs, func(x actuate.Result) bool { return strings.HasPrefix(x.Policy, "tuner:") }) {
		return nil
	}
	gains := map[string]string{}
	for _, t := range r.src.Tuners().Tuners {
		if t.State == "settled" {
			gains["tuner:"+t.Name] = GainText(t.GainPct, t.Objective)
		}
	}
	return gains
}

// GainText is a measured gain as a person reads it: "+12 % latency tasks'
// run-queue wait".
func GainText(pct float64, objective string) string {
	return fmt.Sprintf("%+.0f %% %s", pct, objective)
}

// Policy is one policy of the engine with how it has fared.
type Policy struct {
	Name          string `json:"name"`
	Condition     string `json:"condition"`
	Action        string `json:"action"`
	Priority      int    `json:"priority"`
	State         string `json:"state"` // active, armed, paused, disabled, learning
	Why           string `json:"why,omitempty"`
	Effectiveness Num    `json:"effectiveness"`
	Actuations    int    `json:"actuations"`
	LastFiredNs   uint64 `json:"last_fired_ns,omitempty"`
}

// tunersAndPolicies fills the tuners, the regime (when no other source
// names it) and the policies.
func (r *Recorder) tunersAndPolicies(s *Snapshot) {
	if r.src.Tuners != nil {
		ts := r.src.Tuners()
		if s.Regime == "" && ts.Regimes > 0 {
			s.Regime = fmt.Sprintf("%d of %d", ts.Regime, ts.Regimes)
		}
		for _, t := range ts.Tuners {
			s.Tuners = append(s.Tuners, Tuner{Name: t.Name, Mode: t.Mode, State: t.State, Objective: t.Objective,
				Target: t.Target, Class: t.Class, Setting: t.Setting, Steps: t.Steps, GainPct: t.GainPct,
				Changes: t.Changes, Why: t.Why})
		}
	}
	if r.src.Policies != nil {
		for _, p := range r.src.Policies() {
			s.Policies = append(s.Policies, Policy{Name: p.Name, Condition: p.Condition, Action: p.Action,
				Priority: p.Priority, State: p.State, Why: p.PausedReason, Effectiveness: Num(p.Effectiveness),
				Actuations: p.Actuations, LastFiredNs: p.LastFiredNs})
		}
	}
}

// bounds are the range a feature's values can take: every feature is a
// rate, a count, a latency or a size (never negative), and percentages
// stop at 100. A forecast interval is a statistical band that knows
// neither, so it is clamped for display.
type bounds struct{ lo, hi float64 }

func boundsOf(feature string) bounds {
	if strings.HasSuffix(feature, "_pct") {
		return bounds{0, 100}
	}
	return bounds{0, math.Inf(1)}
}

// clamp keeps NaN and ±Inf (not known, or not learned yet) as they are.
func (b bounds) clamp(v float64) Num {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Num(v)
	}
	return Num(math.Min(math.Max(v, b.lo), b.hi))
}

func (b bounds) clampAll(pts []Num) []Num {
	for i, p := range pts {
		pts[i] = b.clamp(float64(p))
	}
	return pts
}
