package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Options configure a suite run.
type Options struct {
	Scenarios []string      // names; empty = all
	Arms      []string      // names; empty = all
	Repeats   int           // runs of each (scenario, arm[, knob value])
	Duration  time.Duration // workload length per run; 0 = the scenario's default
	Quick     bool          // short runs, the oracle sweeps its quick values
	// OracleValues, when set, are the only knob values the oracle arm
	// runs (each a value of every scenario's knob): a focused run of one
	// scenario against the settings that matter fits a short hold of the
	// live lock.
	OracleValues []string
	OutDir       string // results.json, plots, daemon logs
	WorkDir      string // scratch files on the real disk (loop device backing, writeback files)
	AinkaBin     string // the ainka binary
	AinkaConfig  string // the ainka arms' configuration ("" = defaults)
	Policies     string // the policy file of the ainka+policies arm
	Self         string // this executable (helper workloads)
	Log          io.Writer
}

// Run is one measured run.
type Run struct {
	Scenario  string    `json:"scenario"`
	Arm       string    `json:"arm"`
	KnobValue string    `json:"knob_value,omitempty"`
	Repeat    int       `json:"repeat"`
	Start     time.Time `json:"start"`
	Seconds   float64   `json:"seconds"`
	Figures   *Figures  `json:"figures,omitempty"`
	Load      Load      `json:"load"`
	HostDiff  []string  `json:"host_diff,omitempty"` // what the run left changed (then restored by the suite)
	Notes     []string  `json:"notes,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// Primary returns the run's primary metric, if measured.
func (r *Run) Primary(spec Spec) (float64, bool) {
	if r.Error != "" || r.Figures == nil {
		return 0, false
	}
	v, ok := r.Figures.Values[spec.Primary.Name]
	return v, ok
}

// ErrNotRoot: the scenarios need root.
var ErrNotRoot = errors.New("needs root: the scenarios change sysctls, cgroups, loop devices, swap and network namespaces")

type runner struct {
	opt      Options
	rep      *Report
	baseline *Snapshot
	ainka    map[string]*ainkaDaemon // per arm: the state dir persists across runs
}

// Execute runs the suite. The report is returned (and written to
// OutDir/results.json after every run) also when ctx is cancelled
// midway or the host cannot be restored: partial results are kept.
func Execute(ctx context.Context, opt Options) (*Report, error) {
	specs, arms, err := resolve(opt)
	if err != nil {
		return nil, err
	}
	if err := checkTools(neededTools(specs, arms, opt), lookPath); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	callerNice, err := defaultPriority()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{opt.OutDir, opt.WorkDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	base, err := TakeSnapshot()
	if err != nil {
		return nil, err
	}
	r := &runner{opt: opt, baseline: base, ainka: map[string]*ainkaDaemon{}, rep: newReport(opt, specs, arms)}
	r.rep.Machine.CallerNice = callerNice
	err = r.loop(ctx, specs, arms)
	r.rep.Finished = time.Now()
	if ctx.Err() != nil {
		r.rep.Interrupted = true
		err = fmt.Errorf("interrupted: %w (partial results in %s)", ctx.Err(), r.rep.path())
	}
	if werr := r.rep.save(); werr != nil && err == nil {
		err = werr
	}
	return r.rep, err
}

func (r *runner) loop(ctx context.Context, specs []Spec, arms []string) error {
	total := 0
	for _, s := range specs {
		total += len(expandArms(s, arms, r.opt.Quick, r.opt.OracleValues))
	}
	total *= r.opt.Repeats
	n := 0
	for rep := 0; rep < r.opt.Repeats; rep++ {
		for _, s := range specs {
			for _, a := range expandArms(s, arms, r.opt.Quick, r.opt.OracleValues) {
				if ctx.Err() != nil {
					return nil
				}
				n++
				fmt.Fprintf(r.opt.Log, "[%d/%d] %s × %s%s (repeat %d) ", n, total, s.Name, a.arm, valueSuffix(a.value), rep+1)
				run, err := r.one(ctx, s, a, rep)
				r.rep.Runs = append(r.rep.Runs, run)
				fmt.Fprintln(r.opt.Log, describeRun(s, run))
				if serr := r.rep.save(); serr != nil {
					return serr
				}
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

type armValue struct{ arm, value string }

// expandArms turns the oracle into one run per knob value. A quick run
// brackets the other arms with a second untuned run, so that the drift
// of the host over the scenario is measured in the same run and serves
// as the noise band of the ainka verdict (one run per arm has no IQR).
func expandArms(s Spec, arms []string, quick bool, only []string) []armValue {
	out := expandEach(s, arms, quick, only)
	if quick && len(out) > 1 && contains(arms, ArmUntuned) {
		out = append(out, armValue{arm: ArmUntuned})
	}
	return out
}

func expandEach(s Spec, arms []string, quick bool, only []string) []armValue {
	var out []armValue
	for _, a := range arms {
		if a != ArmOracle {
			out = append(out, armValue{arm: a})
			continue
		}
		vals := s.Knob.Values
		if quick && len(s.Knob.QuickValues) > 0 {
			vals = s.Knob.QuickValues
		}
		if len(only) > 0 {
			vals = only
		}
		for _, v := range vals {
			out = append(out, armValue{arm: a, value: v})
		}
	}
	return out
}

func valueSuffix(v string) string {
	if v == "" {
		return ""
	}
	return "=" + v
}

// verifyHost compares the host with the baseline, restores what differs
// and fails when it cannot.
func (r *runner) verifyHost() (diff []string, err error) {
	now, err := TakeSnapshot()
	if err != nil {
		return nil, err
	}
	diff = r.baseline.Diff(now)
	if len(diff) == 0 {
		return nil, nil
	}
	failed := r.baseline.Restore(now)
	again, err := TakeSnapshot()
	if err != nil {
		return diff, err
	}
	if left := r.baseline.Diff(again); len(left) > 0 {
		return diff, fmt.Errorf("%w: %v (restore errors: %v)", ErrHostChanged, left, failed)
	}
	return diff, nil
}
