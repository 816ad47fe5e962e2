package actuate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/kmod/genl"
	"github.com/ainka/ainka/stages/actuate/journal"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
)

// Change is one knob AINKA has changed and not restored.
type Change struct {
	Key, Target     string
	Original, Value string
	Policy, Why     string
	Since           string // wall clock of the first change
}

// Stage is the actuate stage.
type Stage struct {
	cfg    Config
	log    *slog.Logger
	kernel genl.Client

	mu        sync.Mutex
	j         *journal.Journal
	knobs     map[string]*knob    // open knobs by key
	groups    map[string][]string // action key -> knob keys it wrote
	lastWrite map[string]time.Time
	yielded   map[string]string // knobs given up to an outside change: never touched again until Reset
	tokens    float64
	tokenAt   time.Time
	lastAudit time.Time
	closed    bool
	expected  map[uint64]chan []Result // Optimize requests waited for
	cgPaths   map[string]cgPath        // resolved cgroup files (cgroupPath)
}

// New opens the journal and, if a previous run left knobs changed (it
// crashed), restores them first.
func New(cfg Config) (*Stage, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Stage{cfg: cfg, log: cfg.Logger, knobs: map[string]*knob{}, groups: map[string][]string{},
		lastWrite: map[string]time.Time{}, yielded: map[string]string{}, cgPaths: map[string]cgPath{}, tokens: float64(cfg.MaxWritesPerS), tokenAt: time.Now()}
	s.findCgroups()
	s.kernel = cfg.Kernel
	if cfg.DryRun {
		if cfg.JournalPath != "" {
			if _, err := os.Stat(cfg.JournalPath); err == nil {
				s.log.Warn("dry-run: a journal from an earlier run exists and is left alone; a normal start restores it", "journal", cfg.JournalPath)
			}
		}
		return s, nil
	}
	if cfg.JournalPath == "" {
		return nil, fmt.Errorf("actuate config: a journal path is required (or dry-run)")
	}
	j, open, err := journal.Open(cfg.JournalPath)
	if err != nil {
		return nil, fmt.Errorf("actuate: %w", err)
	}
	s.j = j
	for _, sk := range j.Skipped() {
		s.log.Error("journal line unreadable: skipped (the whole journal is kept in the aside file)", "journal", cfg.JournalPath,
			"line", sk.Line, "err", sk.Err, "text", sk.Text, "aside", j.Aside())
	}
	for _, e := range j.Yields() {
		s.yielded[e.Key] = fmt.Sprintf("yielded since %s to an outside change (to %q; AINKA's original was %q); AINKA no longer touches it until reset",
			e.Since, e.Outside, e.Orig)
	}
	if len(open) > 0 {
		s.log.Warn("journal has changes from a run that did not finish; restoring them", "journal", cfg.JournalPath, "knobs", len(open))
		for _, e := range open {
			r := s.restoreEntry(e, "recovery after an unclean exit", false)
			s.logResult(&r)
		}
	}
	return s, nil
}

// findCgroups finds the cgroup v2 root and the v1 cpu hierarchy unless
// the configuration names them.
func (s *Stage) findCgroups() {
	if s.cfg.CgroupRoot == "" {
		if root, err := FindCgroup2("/proc/self/mountinfo"); err == nil {
			s.cfg.CgroupRoot = root
		} else {
			s.log.Warn("cgroup actions unavailable", "err", err)
		}
	}
	for _, c := range []struct {
		root *string
		ctrl string
	}{{&s.cfg.Cgroup1CPU, "cpu"}, {&s.cfg.Cgroup1Memory, "memory"}} {
		switch *c.root {
		case "":
			*c.root = FindCgroup1("/proc/self/mountinfo", c.ctrl)
		case "-":
			*c.root = ""
		}
	}
}

func monoNow() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// Process performs a batch of decisions and appends one Result per knob
// touched.
func (s *Stage) Process(in []decide.Decision, out []Result) []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return out
	}
	if s.cfg.AuditInterval > 0 && time.Since(s.lastAudit) >= s.cfg.AuditInterval && len(s.knobs) > 0 {
		out = s.audit(out)
	}
	from := len(out)
	for i := range in {
		out = s.do(&in[i], out)
	}
	if len(s.expected) > 0 {
		s.deliver(in, out[from:])
	}
	return out
}

// Apply is Process for decisions that cannot go down the pipeline
// because it has ended: an Optimize request on a replay held open for
// the control API (see decide.Request.InPipeline).
func (s *Stage) Apply(ds []decide.Decision) []Result { return s.Process(ds, nil) }

func (s *Stage) do(d *decide.Decision, out []Result) []Result {
	base := Result{TimeNs: d.TimeNs, ReceivedNs: monoNow(), Kind: d.Kind, Policy: d.Policy, Action: d.Action.String(), Why: d.Explain(), Request: d.Request}
	switch d.Kind {
	case decide.Effect:
		r := base
		r.Status, r.Knob, r.Score = Measured, d.Action.Key(), d.Score
		r.Old, r.New = fmt.Sprintf("%.4g", d.Before), fmt.Sprintf("%.4g", d.After)
		r.Why = fmt.Sprintf("%s %.4g -> %.4g, score %.3f, policy effectiveness %.3f", d.Objective, d.Before, d.After, d.Score, d.Effectiveness)
		s.logResult(&r)
		return append(out, r)
	case decide.StateChange:
		r := base
		r.Action, r.Knob, r.New = "", "kernel:state", d.State.String()
		r.Status = s.mirrorState(d.State, &r)
		s.logResult(&r)
		return append(out, r)
	case decide.Revert:
		keys := s.groups[d.Action.Key()]
		delete(s.groups, d.Action.Key())
		if len(keys) == 0 {
			return out
		}
		for _, k := range keys {
			e, ok := s.entry(k)
			if !ok {
				continue
			}
			r := s.restoreEntry(e, d.Reason, true)
			r.TimeNs, r.Kind, r.Policy, r.Action = d.TimeNs, d.Kind, d.Policy, base.Action
			s.logResult(&r)
			out = append(out, r)
		}
		return out
	}
	// Apply
	if d.Action.Kind == action.Notify {
		r := base
		r.Status = Advice
		s.logResult(&r)
		return append(out, r)
	}
	plans, err := s.plan(d.Action)
	if err != nil {
		r := base
		r.Knob, r.Err = d.Action.Key(), err.Error()
		r.Status = Rejected
		if errors.Is(err, errUnsupported) {
			r.Status = Unsupported
		}
		s.logResult(&r)
		return append(out, r)
	}
	for _, p := range plans {
		r := base
		r.Knob, r.Target = p.k.key, p.k.desc
		s.applyPlan(p, d, &r)
		s.logResult(&r)
		out = append(out, r)
	}
	return out
}

// entry returns the journal entry of an open knob (in dry-run there is none).
func (s *Stage) entry(key string) (journal.Entry, bool) {
	if s.j == nil {
		return journal.Entry{}, false
	}
	return s.j.Get(key)
}

func (s *Stage) applyPlan(p plan, d *decide.Decision, r *Result) {
	cur, err := p.k.read()
	if err != nil {
		r.Status, r.Err = Failed, err.Error()
		if errors.Is(err, errGone) {
			r.Status = Unsupported
		}
		s.forgetCgroups()
		return
	}
	r.Old = cur
	if why, ok := s.yielded[p.k.key]; ok {
		r.Status, r.Err = Yielded, why
		return
	}
	if !s.outsideChange(p.k.key, cur, r) {
		return
	}
	target, clamped, err := p.compute(cur)
	if err != nil {
		r.Status, r.Err = Rejected, err.Error()
		return
	}
	r.New, r.Clamped = target, clamped
	if same(cur, target) {
		r.Status = Unchanged
		return
	}
	if s.cfg.DryRun {
		r.Status = DryRun
		return
	}
	now := time.Now()
	if why := s.rateLimited(p.k.key, now); why != "" {
		r.Status, r.Err = RateLimited, why
		return
	}
	if err := s.j.Intent(p.k.key, p.k.typ, p.k.path, cur, target, d.Policy, r.Why); err != nil {
		r.Status, r.Err = Failed, err.Error() // no journal, no change
		return
	}
	r.JournaledNs = monoNow()
	if err := p.k.write(target); err != nil {
		r.Status, r.Err = Failed, err.Error()
		// The journal says "about to write" and nothing changed: close a
		// first change; a later one still holds AINKA's earlier value.
		if now, rerr := p.k.read(); rerr == nil && same(now, cur) {
			if e, ok := s.entry(p.k.key); ok && same(cur, e.Orig) {
				s.j.Restored(p.k.key)
			} else {
				s.j.Applied(p.k.key, cur)
			}
		}
		return
	}
	r.AppliedNs = monoNow()
	s.lastWrite[p.k.key] = now
	if got, err := p.k.read(); err == nil {
		target = got
		r.New = got
	}
	s.j.Applied(p.k.key, target)
	s.knobs[p.k.key] = p.k
	ak := d.Action.Key()
	if !contains(s.groups[ak], p.k.key) {
		s.groups[ak] = append(s.groups[ak], p.k.key)
	}
	r.Status = Applied
}

// outsideChange handles a knob that holds a value AINKA did not put there
// and reports whether the change may go on. A knob AINKA changed before
// is yielded (r says so); a claim at rest holds nothing of AINKA's, so the
// outside value becomes its new original (a new claim, fsynced).
func (s *Stage) outsideChange(key, cur string, r *Result) bool {
	e, ok := s.entry(key)
	if !ok || e.Ours(cur, same) {
		return true
	}
	if !e.Resting(same) {
		s.yield(key, e, cur)
		r.Status = Yielded
		r.Err = fmt.Sprintf("changed outside AINKA to %q (AINKA wrote %q); AINKA leaves it alone", cur, e.Written)
		return false
	}
	if err := s.j.Restored(key); err != nil {
		r.Status, r.Err = Failed, err.Error()
		return false
	}
	return true
}

// rateLimited says why key may not be written now ("" when it may, and
// then a write is counted).
func (s *Stage) rateLimited(key string, now time.Time) string {
	if last, ok := s.lastWrite[key]; ok && now.Sub(last) < s.cfg.KnobInterval {
		return fmt.Sprintf("changed %v ago; at most one change per %v", now.Sub(last).Round(time.Millisecond), s.cfg.KnobInterval)
	}
	s.tokens += now.Sub(s.tokenAt).Seconds() * float64(s.cfg.MaxWritesPerS)
	s.tokenAt = now
	if max := float64(s.cfg.MaxWritesPerS); s.tokens > max {
		s.tokens = max
	}
	if s.tokens < 1 {
		return fmt.Sprintf("over %d writes per second", s.cfg.MaxWritesPerS)
	}
	s.tokens--
	return ""
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Stage) yield(key string, e journal.Entry, cur string) {
	s.log.Warn("knob changed outside AINKA; yielding it", "knob", key, "now", cur, "ainka_wrote", e.Written, "original", e.Orig, "policy", e.Policy)
	if err := s.j.Yielded(key, cur); err != nil {
		s.log.Error("journal the yield", "knob", key, "err", err)
	}
	delete(s.knobs, key)
	s.yielded[key] = fmt.Sprintf("yielded at %s to an outside change (to %q); AINKA no longer touches it until reset",
		time.Now().UTC().Format(time.RFC3339), cur)
}

// restoreEntry puts one knob back to its original value, unless someone
// else changed it after AINKA did. keep (a revert in the pipeline: the
// knob may change again soon) leaves the claim open and resting, its
// original still on disk; otherwise the entry is closed.
func (s *Stage) restoreEntry(e journal.Entry, why string, keep bool) Result {
	r := Result{Kind: decide.Revert, Knob: e.Key, Policy: e.Policy, New: e.Orig, Why: why}
	k, err := s.knobFor(e)
	if errors.Is(err, errGone) {
		r.Status, r.Err = Restored, "nothing to restore: "+err.Error()
		s.j.Restored(e.Key)
		return r
	}
	if err != nil {
		r.Status, r.Err = Failed, err.Error()
		return r
	}
	r.Target = k.desc
	cur, err := k.read()
	if errors.Is(err, errGone) {
		r.Status, r.Err = Restored, "nothing to restore: "+err.Error()
		s.j.Restored(e.Key)
		delete(s.knobs, e.Key)
		return r
	}
	if err != nil {
		r.Status, r.Err = Failed, err.Error()
		return r
	}
	r.Old = cur
	switch {
	case same(cur, e.Orig):
	case e.Resting(same):
		// AINKA had put the original back and someone changed it since:
		// nothing of AINKA's to undo, and the claim ends.
		keep, r.New = false, cur
	case e.Ours(cur, same):
		if err := k.write(e.Orig); err != nil {
			r.Status, r.Err = Failed, err.Error()
			return r
		}
		r.AppliedNs = monoNow()
	default:
		s.yield(e.Key, e, cur)
		r.Status = Yielded
		r.Err = fmt.Sprintf("changed outside AINKA to %q (AINKA wrote %q); not restored to %q", cur, e.Written, e.Orig)
		return r
	}
	if keep {
		err = s.j.Applied(e.Key, e.Orig)
	} else {
		err = s.j.Restored(e.Key)
		delete(s.knobs, e.Key)
	}
	if err != nil {
		r.Status, r.Err = Failed, err.Error()
		return r
	}
	r.Status = Restored
	return r
}

// audit yields every open knob whose value someone else changed.
func (s *Stage) audit(out []Result) []Result {
	s.lastAudit = time.Now()
	if s.j == nil {
		return out
	}
	for _, e := range s.j.Open() {
		k, err := s.knobFor(e)
		if err != nil {
			continue
		}
		cur, err := k.read()
		if err != nil || e.Ours(cur, same) {
			continue
		}
		if e.Resting(same) { // nothing of AINKA's in it: the claim ends
			s.j.Restored(e.Key)
			continue
		}
		s.yield(e.Key, e, cur)
		r := Result{Kind: decide.Revert, Status: Yielded, Knob: e.Key, Target: k.desc, Policy: e.Policy, Old: e.Written, New: cur,
			Err: fmt.Sprintf("changed outside AINKA to %q (AINKA wrote %q); AINKA leaves it alone", cur, e.Written)}
		out = append(out, r)
	}
	return out
}

// Audit checks every knob AINKA changed now and yields those someone else
// changed since.
func (s *Stage) Audit() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.audit(nil)
}

func (s *Stage) mirrorState(st decide.State, r *Result) Status {
	if s.kernel == nil {
		r.Err = "kernel module not loaded"
		return Unsupported
	}
	if s.cfg.DryRun {
		return DryRun
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ks, ok := kernelState(st)
	if !ok {
		r.Err = fmt.Sprintf("engine state %d has no kernel module state", st)
		return Failed
	}
	if err := s.kernel.SetState(ctx, ks); err != nil {
		r.Err = err.Error()
		return Failed
	}
	r.AppliedNs = monoNow()
	return Mirrored
}

func (s *Stage) logResult(r *Result) {
	attrs := []any{"status", r.Status.String(), "kind", r.Kind.String()}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, k, v)
		}
	}
	add("policy", r.Policy)
	add("knob", r.Knob)
	add("target", r.Target)
	add("from", r.Old)
	add("to", r.New)
	add("clamped", r.Clamped)
	add("why", r.Why)
	add("err", r.Err)
	if s.cfg.DryRun {
		attrs = append(attrs, "dry_run", true)
	}
	switch r.Status {
	case Failed, Yielded:
		s.log.Warn("actuation", attrs...)
	case Measured:
		s.log.Info("measured effect", attrs...)
	default:
		s.log.Info("actuation", attrs...)
	}
}

// Flush is called at the end of input: nothing is pending in this stage.
func (s *Stage) Flush(out []Result) []Result { return out }

// Close restores every knob (AINKA leaves the host as it found it on
// exit) and closes the journal.
func (s *Stage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.rollback("exit") // the open connections follow the restores: OpenConns closes after
	var err error
	if s.cfg.OpenConns != nil {
		err = s.cfg.OpenConns.Close()
	}
	if s.j != nil {
		err = errors.Join(s.j.Close(), err)
	}
	return err
}

// JournalPath returns the journal file.
func (s *Stage) JournalPath() string {
	if s.j == nil {
		return ""
	}
	return filepath.Clean(s.j.Path())
}

// JournalSyncs is how many fsyncs the journal has made (0 without one):
// the closed-loop probe checks that none is on the path from a window to
// the write of a claimed knob.
func (s *Stage) JournalSyncs() uint64 {
	if s.j == nil {
		return 0
	}
	return s.j.Syncs()
}
