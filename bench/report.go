package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Report is everything a suite run produced; results.json is this.
type Report struct {
	Command     string         `json:"command"`
	Started     time.Time      `json:"started"`
	Finished    time.Time      `json:"finished"`
	Machine     Machine        `json:"machine"`
	Quick       bool           `json:"quick"`
	Repeats     int            `json:"repeats"`
	Scenarios   []ScenarioInfo `json:"scenarios"`
	Arms        []string       `json:"arms"`
	Runs        []*Run         `json:"runs"`
	Interrupted bool           `json:"interrupted"`
	Summary     []Row          `json:"summary"`
	// PhaseBest: time to best after each phase change (readahead).
	PhaseBest []PhaseBest `json:"time_to_best,omitempty"`
	Failures  []string    `json:"failures"`
	// Inconclusive verdicts: a difference beyond the noise band measured
	// while the host was busy.
	Inconclusive []string          `json:"inconclusive,omitempty"`
	Files        map[string]string `json:"files,omitempty"`
	outDir       string
}

// ScenarioInfo is a scenario's static description, in the report.
type ScenarioInfo struct {
	Name         string     `json:"name"`
	Summary      string     `json:"summary"`
	Primary      MetricSpec `json:"primary"`
	TunedProfile string     `json:"tuned_profile"`
	Knob         Knob       `json:"knob"`
}

// Machine describes the host the figures come from.
type Machine struct {
	Kernel   string `json:"kernel"`
	CPUs     int    `json:"cpus"`
	MemMiB   int    `json:"mem_mib"`
	CPUModel string `json:"cpu_model"`
	// CallerNice is the nice the suite was started at; it and everything
	// it starts run at 0 (defaultPriority).
	CallerNice int `json:"caller_nice,omitempty"`
}

func newReport(opt Options, specs []Spec, arms []string) *Report {
	r := &Report{Command: strings.Join(os.Args, " "), Started: time.Now(), Quick: opt.Quick, Repeats: opt.Repeats,
		Arms: arms, outDir: opt.OutDir, Machine: machine(), Runs: []*Run{}}
	for _, s := range specs {
		r.Scenarios = append(r.Scenarios, ScenarioInfo{Name: s.Name, Summary: s.Summary, Primary: s.Primary, TunedProfile: s.TunedProfile, Knob: s.Knob})
	}
	return r
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU()}
	m.Kernel, _ = readTrim("/proc/sys/kernel/osrelease")
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		fmt.Sscanf(string(b), "MemTotal: %d kB", &kb)
		m.MemMiB = kb / 1024
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				m.CPUModel = strings.TrimSpace(l[strings.IndexByte(l, ':')+1:])
				break
			}
		}
	}
	return m
}

func (r *Report) path() string { return filepath.Join(r.outDir, "results.json") }

// save writes results.json atomically (summary and verdicts recomputed).
func (r *Report) save() error {
	r.Summary, r.Failures, r.Inconclusive = r.evaluate()
	tmp := r.path() + ".tmp"
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return os.Rename(tmp, r.path())
}

// LoadReport reads a results.json written by an earlier run and
// recomputes its summary (to redraw plots or the table with this
// version of the suite).
func LoadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, si := range r.Scenarios {
		if _, ok := Lookup(si.Name); !ok {
			return nil, fmt.Errorf("%s: %w scenario %q", path, ErrUnknown, si.Name)
		}
	}
	r.Summary, r.Failures, r.Inconclusive = r.evaluate()
	return &r, nil
}

// WriteJSON writes the report to path (the --json copy).
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write --json: %w", err)
	}
	return nil
}

// resolve checks the scenario and arm names.
func resolve(opt Options) ([]Spec, []string, error) {
	var specs []Spec
	if len(opt.Scenarios) == 0 {
		for _, s := range Scenarios() {
			if !s.Variant {
				specs = append(specs, s)
			}
		}
	}
	for _, n := range opt.Scenarios {
		s, ok := Lookup(n)
		if !ok {
			return nil, nil, fmt.Errorf("%w scenario %q (known: %s)", ErrUnknown, n, strings.Join(scenarioNames(), ", "))
		}
		specs = append(specs, s)
	}
	arms := opt.Arms
	if len(arms) == 0 {
		arms = Arms
	}
	for _, a := range arms {
		if !contains(Arms, a) {
			return nil, nil, fmt.Errorf("%w arm %q (known: %s)", ErrUnknown, a, strings.Join(Arms, ", "))
		}
	}
	if opt.Repeats < 1 {
		return nil, nil, fmt.Errorf("repeats must be at least 1, not %d", opt.Repeats)
	}
	if err := checkOracleValues(specs, opt.OracleValues); err != nil {
		return nil, nil, err
	}
	return specs, arms, nil
}

// checkOracleValues: each value asked for must be one of every
// scenario's knob values.
func checkOracleValues(specs []Spec, vals []string) error {
	for _, v := range vals {
		for _, s := range specs {
			if !contains(s.Knob.Values, v) {
				return fmt.Errorf("%w oracle value %q for %s (its %s: %s)", ErrUnknown, v, s.Name, s.Knob.Name, strings.Join(s.Knob.Values, ", "))
			}
		}
	}
	return nil
}

func scenarioNames() []string {
	var out []string
	for _, s := range Scenarios() {
		out = append(out, s.Name)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// neededTools is every program the chosen scenarios and arms run.
func neededTools(specs []Spec, arms []string, opt Options) []string {
	var tools []string
	for _, s := range specs {
		tools = append(tools, s.Tools...)
	}
	if contains(arms, ArmTuned) {
		tools = append(tools, "tuned")
	}
	if contains(arms, ArmAinka) || contains(arms, ArmPolicies) {
		tools = append(tools, opt.AinkaBin)
	}
	return tools
}

// describeRun is the one-line progress summary of a run.
func describeRun(s Spec, r *Run) string {
	var b strings.Builder
	if v, ok := r.Primary(s); ok {
		fmt.Fprintf(&b, "%s %.4g %s", s.Primary.Name, v, s.Primary.Unit)
	} else {
		fmt.Fprintf(&b, "error: %s", r.Error)
	}
	fmt.Fprintf(&b, " (%.0f s, load %.2f, others %.0f%%", r.Seconds, r.Load.LoadAvg1End, r.Load.OthersCPUPct)
	if r.Load.Busy {
		b.WriteString(", BUSY")
	}
	b.WriteString(")")
	if len(r.HostDiff) > 0 {
		fmt.Fprintf(&b, " LEFT HOST CHANGED: %v", r.HostDiff)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n    note: %s", n)
	}
	return b.String()
}
