package decide

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/decide/expr"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

// Config configures the engine. Zero fields take the defaults noted.
type Config struct {
	PolicyFile string // [policy] policy_file; empty: only API policies
	// UpdateInterval is how often Watch polls the policy file for changes
	// ([policy] policy_update_interval_sec). 0: default 10s; <0: never.
	UpdateInterval time.Duration
	// MaxPolicies caps file + API policies ([policy] max_policies; default 64).
	MaxPolicies int
	// EffectivenessThreshold ([policy] policy_effectiveness_threshold;
	// the configuration's default is 0.05, 0 here means 0): a policy whose running effect score (relative
	// improvement of its objective, in [-1,1]) falls below it is reverted
	// and paused.
	EffectivenessThreshold float64
	// EmergencyThreshold ([policy] emergency_mode_threshold, default 0.95):
	// the joint anomaly score at which the engine enters emergency mode.
	EmergencyThreshold float64

	EvalInterval          time.Duration // event time between evaluations (default 1s; <0: every window)
	EmergencyEvalInterval time.Duration // the same in emergency mode (default: every window)
	LearningDuration      time.Duration // default 60s; <0: none
	AnomalyEnter          float64       // default 0.8
	AnomalyExit           float64       // default 0.6
	Hysteresis            float64       // emergency exit margin, default 0.1
	StateHold             time.Duration // default 10s
	SettleTime            time.Duration // after an action, before measuring (default 2s)
	EffectWindow          time.Duration // before/after window (default 10s)
	FlapCount             int           // writer changes on one knob that make flapping (default 4)
	FlapWindow            time.Duration // default 5m

	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.UpdateInterval == 0 {
		c.UpdateInterval = 10 * time.Second
	}
	if c.MaxPolicies == 0 {
		c.MaxPolicies = 64
	}
	if c.MaxPolicies < 0 {
		return fmt.Errorf("max_policies %d must be positive", c.MaxPolicies)
	}
	if c.EffectivenessThreshold < -1 || c.EffectivenessThreshold > 1 {
		return fmt.Errorf("policy_effectiveness_threshold %v outside [-1, 1]", c.EffectivenessThreshold)
	}
	if c.EmergencyThreshold == 0 {
		c.EmergencyThreshold = 0.95
	}
	if c.EmergencyThreshold <= 0 || c.EmergencyThreshold > 1 {
		return fmt.Errorf("emergency_mode_threshold %v outside (0, 1]", c.EmergencyThreshold)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
		if *d < 0 {
			*d = 0
		}
	}
	def(&c.EvalInterval, time.Second)
	def(&c.LearningDuration, 60*time.Second)
	def(&c.StateHold, 10*time.Second)
	def(&c.SettleTime, 2*time.Second)
	def(&c.EffectWindow, 10*time.Second)
	def(&c.FlapWindow, 5*time.Minute)
	if c.EmergencyEvalInterval < 0 {
		c.EmergencyEvalInterval = 0
	}
	if c.AnomalyEnter == 0 {
		c.AnomalyEnter = 0.8
	}
	if c.AnomalyExit == 0 {
		c.AnomalyExit = 0.6
	}
	if c.AnomalyExit > c.AnomalyEnter {
		return fmt.Errorf("anomaly exit %v above enter %v", c.AnomalyExit, c.AnomalyEnter)
	}
	if c.Hysteresis == 0 {
		c.Hysteresis = 0.1
	}
	if c.FlapCount == 0 {
		c.FlapCount = 4
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// PolicyStatus is a policy and what the engine knows about it.
type PolicyStatus struct {
	Policy
	State         string  // "active" (its action is applied), "armed", "paused", "disabled", "learning"
	PausedReason  string  // why it is paused
	Effectiveness float64 // running effect score, NaN before the first measurement
	Measurements  int
	Actuations    int
	Suppressed    int      // times a higher-priority policy won its knob
	LastFiredNs   uint64   // event time
	Conflicts     []string // other policies that write the same knob
	Knob          string
}

// Status is the engine's state for the control API.
type Status struct {
	State           string
	SinceNs         uint64 // event time the state was entered
	Emergency       bool
	ManualEmergency bool
	Policies        int
	Windows         uint64
	Decisions       uint64
	LastWindowNs    uint64
	PolicyFile      string
	LastReloadError string
}

type pendingEffect struct {
	atNs                uint64 // when the action was decided
	beforeMean, beforeV float64
	beforeN             int
	slope               float64 // objective per ns in the before window
	beforeMid           float64
	beforeMin, beforeMx float64
}

type rule struct {
	c         *compiled
	st        *expr.State
	api       bool
	paused    bool
	reason    string
	fired     bool
	lastFire  uint64
	active    bool // its action is applied and not reverted
	clearFrom uint64
	effect    float64
	nEffect   int
	acts      int
	suppr     int
	pending   []pendingEffect
	conflicts []string
}

type knobHist struct {
	writer  string
	changes []uint64 // event times the writer changed
}

type histEntry struct {
	t uint64
	v [features.Count]float64
}

// Stage is the decide stage.
type Stage struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	rules   []*rule // sorted by priority, high first, then name
	pending []Decision
	state   State
	since   uint64
	manual  int8 // -1 off, 0 auto, 1 on
	// first window time, evaluation bookkeeping
	firstNs, lastEval, lastNs uint64
	started                   bool
	anomalyClear, emergClear  uint64 // when the score went under the exit level (+1)
	lastForecastFire          uint64
	windows, decisions        uint64
	latest                    predict.Output
	haveLatest                bool
	knobs                     map[string]*knobHist
	hist                      []histEntry
	histN, histHead           int

	fileSum   [32]byte
	fileMod   time.Time
	fileSize  int64
	reloadErr string
}

// ErrUnknownPolicy is returned for a policy name that does not exist.
var ErrUnknownPolicy = errors.New("no such policy")

// ErrTooManyPolicies is returned when max_policies would be exceeded.
var ErrTooManyPolicies = errors.New("too many policies")

// New builds the engine and loads cfg.PolicyFile, if set.
func New(cfg Config) (*Stage, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("decide config: %w", err)
	}
	s := &Stage{cfg: cfg, log: cfg.Logger, knobs: map[string]*knobHist{}, hist: make([]histEntry, 4096)}
	if cfg.PolicyFile != "" {
		if _, err := os.Stat(cfg.PolicyFile); errors.Is(err, os.ErrNotExist) {
			// A missing file means no file policies; Watch loads it
			// when it appears.
			s.log.Info("policy file absent; starting with no file policies", "file", cfg.PolicyFile)
		} else if err := s.Reload(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Reload re-reads the policy file. On any error the running policies stay
// as they are and the error is returned (and kept for Status). Policies
// whose action is applied and that are gone or changed are reverted.
func (s *Stage) Reload() error {
	if s.cfg.PolicyFile == "" {
		return fmt.Errorf("reload: no policy file configured")
	}
	data, err := os.ReadFile(s.cfg.PolicyFile)
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(s.cfg.PolicyFile); err == nil {
			s.mu.Lock()
			s.fileMod, s.fileSize, s.fileSum = fi.ModTime(), fi.Size(), sha256.Sum256(data)
			s.mu.Unlock()
		}
	}
	if err != nil {
		return s.reloadFailed(fmt.Errorf("read policy file: %w", err))
	}
	ps, err := ParseFile(s.cfg.PolicyFile, data)
	if err != nil {
		return s.reloadFailed(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var next []*rule
	for _, r := range s.rules {
		if r.api {
			next = append(next, r)
		}
	}
	old := map[string]*rule{}
	for _, r := range s.rules {
		if !r.api {
			old[r.c.Name] = r
		}
	}
	for _, p := range ps {
		c, _ := compile(p, nil, 0) // validated by ParseFile
		if o, ok := old[p.Name]; ok && samePolicy(o.c.Policy, p) {
			next = append(next, o) // unchanged: keep its state
			delete(old, p.Name)
			continue
		}
		for _, r := range next {
			if r.c.Name == p.Name {
				return s.reloadFailedLocked(fmt.Errorf("%w: policy %q in %s also exists as an API policy", ErrPolicy, p.Name, p.Origin))
			}
		}
		next = append(next, &rule{c: c, st: c.prog.NewState(), effect: math.NaN()})
	}
	if len(next) > s.cfg.MaxPolicies {
		return s.reloadFailedLocked(fmt.Errorf("%w: %d policies, max_policies is %d", ErrTooManyPolicies, len(next), s.cfg.MaxPolicies))
	}
	if err := checkConflicts(next); err != nil {
		return s.reloadFailedLocked(err)
	}
	for name, r := range old {
		s.retire(r, "policy "+name+" removed or changed in the policy file")
	}
	s.setRules(next)
	s.reloadErr = ""
	s.log.Info("policies loaded", "file", s.cfg.PolicyFile, "count", len(next))
	return nil
}

func samePolicy(a, b Policy) bool {
	a.Origin, b.Origin = "", ""
	return a == b
}

func (s *Stage) reloadFailed(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadFailedLocked(err)
}

func (s *Stage) reloadFailedLocked(err error) error {
	s.reloadErr = err.Error()
	s.log.Error("policy reload failed; keeping the running policies", "err", err)
	return err
}

// retire queues a revert for r if its action is applied.
func (s *Stage) retire(r *rule, why string) {
	if r.active && r.c.act.Kind != action.Notify {
		r.active = false
		s.pending = append(s.pending, Decision{Kind: Revert, Policy: r.c.Name, Priority: r.c.Priority, Action: r.c.act, Reason: why})
	}
}

// checkConflicts finds enabled policies that write one knob. Different
// priorities are fine (the higher wins) and are recorded; equal priorities
// cannot be decided and are an error.
func checkConflicts(rs []*rule) error {
	by := map[string][]*rule{}
	for _, r := range rs {
		r.conflicts = nil
		if k := r.c.act.Key(); k != "" && r.c.Enabled {
			by[k] = append(by[k], r)
		}
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := by[k]
		for i, a := range g {
			for j, b := range g {
				if i == j {
					continue
				}
				if a.c.act.Op == b.c.act.Op && a.c.act.Value == b.c.act.Value {
					continue // same change: not a conflict
				}
				a.conflicts = append(a.conflicts, b.c.Name)
				if i < j && a.c.Priority == b.c.Priority {
					return fmt.Errorf("%w: policies %q (%s) and %q (%s) both change %s with priority %d; give one a higher priority",
						ErrPolicy, a.c.Name, origin(a), b.c.Name, origin(b), k, a.c.Priority)
				}
			}
		}
	}
	return nil
}

func origin(r *rule) string {
	if r.c.Origin == "" {
		return "api"
	}
	return r.c.Origin
}

func (s *Stage) setRules(rs []*rule) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].c.Priority != rs[j].c.Priority {
			return rs[i].c.Priority > rs[j].c.Priority
		}
		return rs[i].c.Name < rs[j].c.Name
	})
	s.rules = rs
}

// AddPolicy adds a policy at run time (control API). It is validated like
// a file policy; a name that exists is an error.
func (s *Stage) AddPolicy(p Policy) error {
	if p.Origin == "" {
		p.Origin = "api"
	}
	c, err := compile(p, nil, 0)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if r.c.Name == p.Name {
			return fmt.Errorf("%w: policy %q already exists (%s)", ErrPolicy, p.Name, origin(r))
		}
	}
	if len(s.rules)+1 > s.cfg.MaxPolicies {
		return fmt.Errorf("%w: max_policies is %d", ErrTooManyPolicies, s.cfg.MaxPolicies)
	}
	next := append(append([]*rule(nil), s.rules...), &rule{c: c, st: c.prog.NewState(), api: true, effect: math.NaN()})
	if err := checkConflicts(next); err != nil {
		checkConflicts(s.rules)
		return err
	}
	s.setRules(next)
	s.log.Info("policy added", "policy", p.Name, "condition", p.Condition, "action", p.Action, "priority", p.Priority)
	return nil
}

// RemovePolicy removes a policy; if its action is applied, a Revert is
// emitted with the next batch.
func (s *Stage) RemovePolicy(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.rules {
		if r.c.Name == name {
			s.retire(r, "policy removed")
			s.rules = append(s.rules[:i:i], s.rules[i+1:]...)
			checkConflicts(s.rules)
			s.log.Info("policy removed", "policy", name)
			return nil
		}
	}
	return fmt.Errorf("remove policy %q: %w", name, ErrUnknownPolicy)
}

// Policies returns every policy with its status, highest priority first.
func (s *Stage) Policies() []PolicyStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PolicyStatus, 0, len(s.rules))
	for _, r := range s.rules {
		ps := PolicyStatus{Policy: r.c.Policy, Effectiveness: r.effect, Measurements: r.nEffect,
			Actuations: r.acts, Suppressed: r.suppr, LastFiredNs: r.lastFire, PausedReason: r.reason,
			Conflicts: append([]string(nil), r.conflicts...), Knob: r.c.act.Key()}
		switch {
		case !r.c.Enabled:
			ps.State = "disabled"
		case r.paused:
			ps.State = "paused"
		case r.active:
			ps.State = "active"
		case s.state == Learning && (r.c.prog.UsesAnomaly() || r.c.prog.UsesForecast()):
			ps.State = "learning"
		default:
			ps.State = "armed"
		}
		out = append(out, ps)
	}
	return out
}

// Resume un-pauses a paused policy.
func (s *Stage) Resume(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if r.c.Name == name {
			r.paused, r.reason, r.effect, r.nEffect = false, "", math.NaN(), 0
			return nil
		}
	}
	return fmt.Errorf("resume policy %q: %w", name, ErrUnknownPolicy)
}

// SetEmergency forces emergency mode on, or ends it (returning to
// automatic detection). The state change is emitted with the next batch.
func (s *Stage) SetEmergency(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.manual = 1
		s.enter(Emergency, s.lastNs, "operator turned emergency mode on")
	} else {
		s.manual = 0
		if s.state == Emergency {
			s.enter(Optimizing, s.lastNs, "operator turned emergency mode off")
		}
	}
}

// State returns the engine's status.
func (s *Stage) State() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{State: s.state.String(), SinceNs: s.since, Emergency: s.state == Emergency,
		ManualEmergency: s.manual == 1, Policies: len(s.rules), Windows: s.windows, Decisions: s.decisions,
		LastWindowNs: s.lastNs, PolicyFile: s.cfg.PolicyFile, LastReloadError: s.reloadErr}
}

// Reset forgets learned state: effect scores, pauses, "for" progress,
// flapping history, and goes back to learning. Applied actions are
// reverted (Revert decisions with the next batch).
func (s *Stage) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		s.retire(r, "reset")
		r.st.Reset()
		r.paused, r.reason, r.fired, r.effect, r.nEffect, r.pending = false, "", false, math.NaN(), 0, nil
	}
	s.knobs = map[string]*knobHist{}
	s.histN, s.started, s.manual = 0, false, 0
	s.enter(Learning, s.lastNs, "reset")
}

// Optimize runs one evaluation of every policy now on the latest window,
// whatever the cadence, and returns the decisions (which the caller hands
// to the actuate stage). Cooldowns still apply.
func (s *Stage) Optimize() ([]Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.haveLatest {
		return nil, fmt.Errorf("optimize: no window seen yet")
	}
	out := append([]Decision(nil), s.pending...)
	s.pending = s.pending[:0]
	for i := range out {
		if out[i].TimeNs == 0 {
			out[i].TimeNs = s.lastNs
		}
	}
	w := s.latest
	return s.evaluate(windowEnv{&w}, out), nil
}

// Watch polls the policy file every UpdateInterval and reloads it when
// its contents change, until ctx ends.
func (s *Stage) Watch(ctx context.Context) {
	if s.cfg.PolicyFile == "" || s.cfg.UpdateInterval <= 0 {
		return
	}
	t := time.NewTicker(s.cfg.UpdateInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.fileChanged() {
				if err := s.Reload(); err == nil {
					s.log.Info("policy file changed; reloaded", "file", s.cfg.PolicyFile)
				}
			}
		}
	}
}

func (s *Stage) fileChanged() bool {
	fi, err := os.Stat(s.cfg.PolicyFile)
	if err != nil {
		return false
	}
	s.mu.Lock()
	mod, size, sum := s.fileMod, s.fileSize, s.fileSum
	s.mu.Unlock()
	if fi.ModTime().Equal(mod) && fi.Size() == size {
		return false
	}
	data, err := os.ReadFile(s.cfg.PolicyFile)
	if err != nil {
		return false
	}
	if sha256.Sum256(data) == sum {
		s.mu.Lock()
		s.fileMod, s.fileSize = fi.ModTime(), fi.Size()
		s.mu.Unlock()
		return false
	}
	return true
}
