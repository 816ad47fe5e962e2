package decide

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"time"

	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/predict"
)

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

// Stage is the decide stage. Its parts each do one job: the policies
// (ruleSet), the policy file (policyFile), the state machine (machine),
// the window history and effect measurement (history, effects), flap
// detection (flapDetector) and on-demand evaluations (requests). The
// Stage joins them under one lock, so that the control API's goroutines
// and the pipeline's see one consistent engine.
type Stage struct {
	cfg  Config
	log  *slog.Logger
	file *policyFile // nil without a policy file

	mu       sync.Mutex
	rules    ruleSet
	machine  machine
	hist     *history
	effects  effects
	flaps    *flapDetector
	requests requests
	outbox   []Decision // decided outside Process: emitted with the next batch
	claimed  []string   // knobs taken in the current evaluation

	first, lastEval    stamp  // the first window; the last evaluation
	lastNs             uint64 // the latest window's event time
	latest             predict.Output
	haveLatest         bool
	ended              bool // Flush was called: no more input will come
	windows, decisions uint64
}

// ErrUnknownPolicy is returned for a policy name that does not exist.
var ErrUnknownPolicy = errors.New("no such policy")

// New builds the engine and loads cfg.PolicyFile, if set.
func New(cfg Config) (*Stage, error) {
	if err := cfg.defaults(); err != nil {
		return nil, fmt.Errorf("decide config: %w", err)
	}
	h := newHistory(historyLen)
	s := &Stage{cfg: cfg, log: cfg.Logger, rules: ruleSet{max: cfg.MaxPolicies}, hist: h,
		effects: effects{hist: h, settle: uint64(cfg.SettleTime), window: uint64(cfg.EffectWindow)},
		flaps:   newFlapDetector(cfg.FlapCount, uint64(cfg.FlapWindow))}
	s.machine.cfg = &s.cfg
	if cfg.PolicyFile == "" {
		return s, nil
	}
	s.file = &policyFile{path: cfg.PolicyFile}
	if _, err := os.Stat(cfg.PolicyFile); errors.Is(err, os.ErrNotExist) {
		// A missing file means no file policies; Watch loads it when it
		// appears.
		s.log.Info("policy file absent; starting with no file policies", "file", cfg.PolicyFile)
	} else if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the policy file. On any error the running policies stay
// as they are and the error is returned (and kept for Status). Policies
// whose action is applied and that are gone or changed are reverted.
func (s *Stage) Reload() error {
	if s.file == nil {
		return fmt.Errorf("reload: no policy file configured")
	}
	// Parse and compile outside the engine's lock: that is the slow part,
	// and windows keep being decided meanwhile.
	cs, empty, err := s.file.read(s.cfg.MaxPolicies)
	s.mu.Lock()
	if err == nil && len(cs) == 0 && !empty {
		if n := s.rules.fileRules(); n > 0 {
			err = fmt.Errorf("%w: %s; keeping the %d running (a file caught while being written?); to remove them all, write a file that says %q", ErrEmptyPolicyFile, s.file.path, n, EmptyMarker)
		}
	}
	if err == nil {
		var gone map[string]*rule
		if gone, err = s.rules.replaceFile(cs); err == nil {
			for name, r := range gone {
				s.retire(r, "policy "+name+" removed or changed in the policy file")
			}
		}
	}
	// The error is set under the engine's lock so that no one sees the
	// new policies with the old error.
	s.file.setErr(err)
	n := len(s.rules.list)
	s.mu.Unlock()
	if err != nil {
		s.log.Error("policy reload failed; keeping the running policies", "err", err)
		return err
	}
	s.log.Info("policies loaded", "file", s.file.path, "count", n)
	if s.cfg.OnLoad != nil {
		s.cfg.OnLoad()
	}
	return nil
}

// Watch polls the policy file every UpdateInterval and reloads it when
// its contents change, until ctx ends.
func (s *Stage) Watch(ctx context.Context) {
	if s.file == nil || s.cfg.UpdateInterval <= 0 {
		return
	}
	t := time.NewTicker(s.cfg.UpdateInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.file.changed() {
				if err := s.Reload(); err == nil {
					s.log.Info("policy file changed; reloaded", "file", s.file.path)
				}
			}
		}
	}
}

// retire queues a revert for r if its action is applied.
func (s *Stage) retire(r *rule, why string) {
	if r.active && r.writesKnob() {
		r.active = false
		s.outbox = append(s.outbox, Decision{Kind: Revert, Policy: r.c.Name, Priority: r.c.Priority, Action: r.c.act, Reason: why})
	}
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
	if err := s.rules.add(newRule(c, true)); err != nil {
		s.mu.Unlock()
		return err
	}
	s.mu.Unlock()
	s.log.Info("policy added", "policy", p.Name, "condition", p.Condition, "action", p.Action, "priority", p.Priority)
	if s.cfg.OnLoad != nil {
		s.cfg.OnLoad()
	}
	return nil
}

// RemovePolicy removes a policy; if its action is applied, a Revert is
// emitted with the next batch.
func (s *Stage) RemovePolicy(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rules.remove(name)
	if r == nil {
		return fmt.Errorf("remove policy %q: %w", name, ErrUnknownPolicy)
	}
	s.retire(r, "policy removed")
	s.log.Info("policy removed", "policy", name)
	return nil
}

// PolicyAction is an enabled policy's action.
type PolicyAction struct {
	Policy string
	Action action.Action
}

// Actions returns the actions of the enabled policies that write a knob,
// highest priority first: the knobs a condition may soon change.
func (s *Stage) Actions() []PolicyAction {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PolicyAction
	for _, r := range s.rules.list {
		if r.c.Enabled && r.writesKnob() {
			out = append(out, PolicyAction{Policy: r.c.Name, Action: r.c.act})
		}
	}
	return out
}

// Policies returns every policy with its status, highest priority first.
func (s *Stage) Policies() []PolicyStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PolicyStatus, 0, len(s.rules.list))
	for _, r := range s.rules.list {
		ps := PolicyStatus{Policy: r.c.Policy, Effectiveness: r.effect.score, Measurements: r.effect.n,
			Actuations: r.acts, Suppressed: r.suppr, LastFiredNs: r.lastFire, PausedReason: r.reason,
			Conflicts: append([]string(nil), r.conflicts...), Knob: r.c.act.Key()}
		switch {
		case !r.c.Enabled:
			ps.State = "disabled"
		case r.paused:
			ps.State = "paused"
		case r.active:
			ps.State = "active"
		case s.machine.state == Learning && r.c.predictive():
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
	_, r := s.rules.find(name)
	if r == nil {
		return fmt.Errorf("resume policy %q: %w", name, ErrUnknownPolicy)
	}
	r.paused, r.reason = false, ""
	r.effect.score, r.effect.n = math.NaN(), 0
	return nil
}

// SetEmergency forces emergency mode on, or ends it (returning to
// automatic detection). The state change is emitted with the next batch.
func (s *Stage) SetEmergency(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.machine.forced = on
	switch {
	case on:
		s.enter(Emergency, s.lastNs, "operator turned emergency mode on")
	case s.machine.state == Emergency:
		s.enter(Optimizing, s.lastNs, "operator turned emergency mode off")
	}
}

// enter switches state and queues a StateChange.
func (s *Stage) enter(st State, now uint64, why string) {
	from := s.machine.state
	if !s.machine.enter(st, now) {
		return
	}
	s.log.Info("state change", "from", from.String(), "to", st.String(), "reason", why, "event_ns", now)
	s.outbox = append(s.outbox, Decision{TimeNs: now, Kind: StateChange, State: st, Reason: why})
}

// State returns the engine's status.
func (s *Stage) State() Status {
	var path, reloadErr string
	if s.file != nil {
		path, reloadErr = s.file.path, s.file.err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &s.machine
	return Status{State: m.state.String(), SinceNs: m.since, Emergency: m.state == Emergency,
		ManualEmergency: m.forced, Policies: len(s.rules.list), Windows: s.windows, Decisions: s.decisions,
		LastWindowNs: s.lastNs, PolicyFile: path, LastReloadError: reloadErr}
}

// Reset forgets learned state: effect scores, pauses, "for" progress,
// flapping history, and goes back to learning. Applied actions are
// reverted (Revert decisions with the next batch).
func (s *Stage) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules.list {
		s.retire(r, "reset")
		r.st.Reset()
		r.paused, r.reason, r.fired, r.effect = false, "", false, newEffectRecord()
	}
	s.flaps.reset()
	s.hist.reset()
	s.first.clear()
	s.machine.forced = false
	s.enter(Learning, s.lastNs, "reset")
}
