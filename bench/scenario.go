package bench

import (
	"context"
	"io"
	"sort"
	"time"
)

// Scenario is one run of a workload on the host. A fresh value is made
// for every run (Spec.New), so a scenario keeps its run's state in its
// own fields. The runner calls Setup, Workload, Metric, then Teardown —
// Teardown always, also after a failure or a cancelled context, with a
// context of its own.
type Scenario interface {
	Setup(ctx context.Context, env *Env) error
	Workload(ctx context.Context, env *Env) error
	Metric(env *Env) (*Figures, error)
	Teardown(ctx context.Context, env *Env) error
}

// MetricSpec names a scenario's primary metric: the figure the verdicts
// and ratios are about.
type MetricSpec struct {
	Name          string  `json:"name"`
	Unit          string  `json:"unit"`
	LowerIsBetter bool    `json:"lower_is_better"`
	NoiseFloor    float64 `json:"noise_floor"` // relative band below which a difference is noise
	// MustImprove: the ainka arm must make the metric better than
	// untuned by more than the noise band, not merely no worse (a
	// scenario a tuner acting by default is meant to win; issue 17's
	// closed-loop assertion).
	MustImprove bool `json:"must_improve,omitempty"`
}

// Knob is what the oracle arm sweeps: the best static value wins.
type Knob struct {
	Name        string   `json:"name"`
	Values      []string `json:"values"`
	QuickValues []string `json:"quick_values"`
}

// Spec describes a scenario: its name, metric, knob, the tuned profile
// that fits it, the tools it needs, and a constructor.
type Spec struct {
	Name         string
	Summary      string
	Primary      MetricSpec
	TunedProfile string
	Knob         Knob
	Tools        []string
	New          func() Scenario
	// Variant scenarios run only when named (--scenario), not by default.
	Variant bool
}

// Env is what a scenario run gets from the runner.
type Env struct {
	Dir       string        // scratch directory of this run, removed afterwards
	Duration  time.Duration // workload length
	Quick     bool
	KnobValue string            // the oracle's static value; "" leaves the knob alone
	Self      string            // this executable, for the helper workloads (internal subcommands)
	Baseline  map[string]string // the host state the suite keeps: file -> value
	Log       io.Writer
}

// Figures are a run's measurements. Values holds every scalar (the
// primary metric among them); Quantiles holds latency distributions as
// 101 quantiles (p0..p100) for CDF plots; Series holds time series
// (e.g. throughput every 250 ms), Marks instants on them (phase
// boundaries, knob changes).
type Figures struct {
	Values    map[string]float64   `json:"values"`
	Quantiles map[string][]float64 `json:"quantiles,omitempty"`
	Series    map[string][]Point   `json:"series,omitempty"`
	Marks     []Mark               `json:"marks,omitempty"`
}

// Point is one sample of a series, T seconds from the workload's start.
type Point struct {
	T float64 `json:"t"`
	V float64 `json:"v"`
}

// Mark is a labelled instant, T seconds from the workload's start.
type Mark struct {
	T     float64 `json:"t"`
	Label string  `json:"label"`
}

func newFigures() *Figures {
	return &Figures{Values: map[string]float64{}, Quantiles: map[string][]float64{}, Series: map[string][]Point{}}
}

var registry = map[string]Spec{}

func register(s Spec) { registry[s.Name] = s }

// Scenarios returns every scenario's spec, in name order.
func Scenarios() []Spec {
	out := make([]Spec, 0, len(registry))
	for _, s := range registry {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the named scenario.
func Lookup(name string) (Spec, bool) {
	s, ok := registry[name]
	return s, ok
}
