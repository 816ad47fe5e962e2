package tune

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/features"
)

// target is one thing a tuner tunes: key is its identity across runs
// (what the model file remembers), sel what the action names now.
type target struct {
	key   string // "cpu/stress-ng-cpu/batch", "readahead/loop0/sequential"
	sel   string // "pid:1234", "loop0"
	pid   uint32 // a cpu target's first task (pids[0])
	pids  [action.MaxPids]uint32
	npids int
	dev   uint32
	orig  int // the highest nice of a cpu target's tasks before AINKA (act mode)
	limit int // the family's bound on its settings: memory's lowest swappiness, writeback's highest ratio
	// tcp: the network namespace (inode), whether it is the daemon's own,
	// the congestion controls the kernel offers and the one in place.
	netns      uint32
	own        bool
	follow     bool // tcp: its open connections follow a change (Config.ConnsFollow)
	avail, cur string
	class      Class
	conf       float64
	why        string
	share      float64 // a cpu target's CPU in all when it was chosen
	// memory: the protected task's memory cgroup whose reclaim is the
	// objective ("" = none readable: the task's faults are), and the
	// reclaim counter's last reading (at event time ctrNs).
	memcg string
	memV1 bool
	// memory.high: the hog's usage (bytes) when found, which its settings
	// are shares of (0 for the swappiness knobs), and its latest usage.
	high, hogUse int64
	stepFor      string // the setting stepNs is the last write of (stepper)
	stepNs       uint64
	steps        int // writes of stepFor after its first
	ctr          uint64
	ctrNs        uint64
}

// family is one knob family: how to find a target, the settings to try,
// the objective (higher is better) and the action for a setting.
type family interface {
	name() string
	objective() string
	find(s *Stage, now uint64) (target, bool)
	arms(tg *target) []string // arms[0] is "": the value before AINKA
	measure(s *Stage, v *features.Vector, tg *target) (float64, bool)
	action(tg *target, value string) string
	alive(s *Stage, tg *target, now uint64) bool
}

// displacer is a family whose target can be displaced by a better one
// found since its trial began.
type displacer interface {
	displaced(s *Stage, tg *target, now uint64) (why string, yes bool)
}

// shedder is a family whose target is a group of tasks of which one
// may stop belonging mid-trial: shed names it (its index in tg.pids).
type shedder interface {
	shed(s *Stage, tg *target, now uint64) (i int, why string, yes bool)
}

// grower is a family whose settled target can gain tasks its setting
// does not reach: grown fills add with them and says why.
type grower interface {
	grown(s *Stage, tg *target, setting string, now uint64, add []uint32) (n int, why string)
}

// lagged is a family whose settings reach the objective only after a
// lag: a namespace's congestion control applies to connections opened
// after it is set, and a connection open at the change goes on with the
// old one. Its steps are measured from lag after the change, for an
// effect window less one window, as others' from one window after.
type lagged interface{ lag(s *Stage) uint64 }

// sticky is a family whose settled setting stays while its target lives,
// whatever the regime does: the CPU tuner's target is a job and its
// setting is the job's, while the host-wide regime also flips on other
// work (another session's disk writes), and reverting on each flip put
// the latency tasks back behind the hogs for a window or two every time.
type sticky interface{ sticky() }

func isSticky(f family) bool {
	_, ok := f.(sticky)
	return ok
}

// minGain is the relative gain a setting must show to be kept over the
// original.
const minGain = 0.03

// tuner runs one family's trials, one target at a time.
type tuner struct {
	fam  family
	mode Mode

	active  bool
	cand    target // the last target find returned
	tg      target
	regime  uint32
	exploit bool // settled (or re-applied a known best): no more steps
	b       bandit
	arms    []string
	arm     int
	applied bool   // a non-original value is in place
	setting string // the value in place ("" = the original)
	since   uint64
	sum     float64
	sq      float64 // sum of squares of the objective's samples
	n       int
	base    float64
	haveB   bool
	steps   int
	done    uint64  // event time of this arm's effect window measured before a pause
	lastR   float64 // the last reward given
	harm    string  // why the setting in place was harmful, undone by the next write
	drift   drifted // drifting families: the arm waiting for the original after it
	ro      runoff  // preferrers: settings the trial could not tell apart, measured in turns
	away    uint64  // sticky families: event time the regime left the trial's (0: it has not)

	paused []pausedTrial // phased families: trials whose phase ended
	lg     lingering     // phased families: a setting left in place for the next phase

	// for status
	last    string
	changes int
	gain    float64
}

// step runs the tuner for one window.
func (t *tuner) step(s *Stage, v *features.Vector) {
	now := v.EndNs
	if t.mode == Off {
		return
	}
	if t.active && !t.fam.alive(s, &t.tg, now) {
		if t.pause(s, now) {
			return
		}
		s.logf("tuner %s: %s quiet for %v of event time (exited, idle or removed: %s); trial ended", t.fam.name(), t.tg.sel, time.Duration(goneNs), t.tg.key)
		t.end(s, now, "target gone")
		return
	}
	if t.regime == t.scope(s) {
		t.away = 0
	}
	if t.active && t.regime != t.scope(s) && !(t.exploit && t.mode == Act && isSticky(t.fam)) && !t.excursion(s, now) {
		t.end(s, now, fmt.Sprintf("regime r%d ended", t.regime))
	}
	if d, ok := t.fam.(displacer); ok && t.active && t.mode == Act {
		if why, yes := d.displaced(s, &t.tg, now); yes {
			t.end(s, now, why)
		}
	}
	if sh, ok := t.fam.(shedder); ok && t.active && t.mode == Act {
		t.shedMembers(s, sh, now)
	}
	if g, ok := t.fam.(grower); ok && t.active && t.exploit && t.applied && t.mode == Act {
		t.growMembers(s, g, now)
	}
	t.restep(s, now)
	if !t.active {
		t.start(s, now)
		return
	}
	if t.ro.on {
		t.runoffStep(s, v)
		return
	}
	if t.exploit || t.mode != Act {
		return
	}
	settle := s.windowNs // the change settles for one window
	if l, ok := t.fam.(lagged); ok {
		settle = l.lag(s)
	}
	if now < t.since+settle {
		return
	}
	if x, ok := t.fam.measure(s, v, &t.tg); ok {
		t.sum += x
		t.sq += x * x
		t.n++
	}
	if now-t.since+t.done >= uint64(s.cfg.EffectWindow.Nanoseconds())+settle-s.windowNs || t.answered(now) {
		t.finishStep(s, now)
	}
}

// start looks for a target; a known best for it in this regime is applied
// at once, otherwise act mode starts exploring and advise mode advises.
func (t *tuner) start(s *Stage, now uint64) {
	// The candidate lives in the tuner, not on the stack: its address
	// goes to the family's methods, and a stack copy would be moved to
	// the heap on every window.
	var ok bool
	if t.cand, ok = t.fam.find(s, now); !ok {
		t.lingerExpire(s, now)
		return
	}
	tg := &t.cand
	if t.lg.on && tg.sel != t.lg.tg.sel {
		t.dropLinger(s, now)
	}
	arms := t.fam.arms(tg)
	if len(arms) < 2 || t.held(s, tg, arms) {
		t.dropLinger(s, now)
		return
	}
	*t = tuner{fam: t.fam, mode: t.mode, active: true, tg: *tg, regime: t.scope(s), arms: arms, last: t.last, changes: t.changes, gain: t.gain, paused: t.paused, lg: t.lg}
	t.b.n = len(t.arms)
	best, known := s.best(t.regime, t.tg.key)
	if known {
		t.exploit = true
		t.gain = best.Gain
		why := fmt.Sprintf("best known for %s: %+.0f%% %s over %d trials", t.where(), 100*best.Gain, t.fam.objective(), best.Trials)
		if best.Value == "" {
			t.dropLinger(s, now)
			t.emitNote(s, now, "keeps the original setting: "+why)
			return
		}
		since := t.workloadStart(s, now)
		s.timeToBest(since, now)
		if since != 0 && now >= since {
			why += fmt.Sprintf("; %d ms after its workload began", (now-since)/1e6)
		}
		t.lg.on = false // one write, from the last phase's value to this one's
		t.apply(s, now, best.Value, why)
		t.beginRunoff(s, now, best)
		return
	}
	if t.mode == Advise {
		t.exploit = true
		t.apply(s, now, t.arms[len(t.arms)-1], "untested: no trial yet in "+t.where())
		return
	}
	if t.resume(s, now) {
		return
	}
	if o, ok := t.fam.(orderer); ok {
		if ord, ok := o.order(&t.tg, len(t.arms)); ok {
			t.b.setOrder(ord[:len(t.arms)])
		}
	}
	t.arm, t.since = t.b.next(), now // the original, unless the family orders otherwise
	if t.arm == 0 {
		t.dropLinger(s, now)
		return
	}
	t.lg.on = false // one write, from the last phase's value to this one's
	t.apply(s, now, t.arms[t.arm], fmt.Sprintf("trial 1 of %d (UCB1), the likeliest best first; the original is measured next", s.cfg.MaxSteps))
}

// orderer is a family that knows which settings are likeliest best for a
// target: its trials try them first (order: a permutation of the arms).
type orderer interface {
	order(tg *target, n int) ([MaxArms]int, bool)
}

// held reports whether an operator's policy holds a knob one of the arms
// would write (each kind of action checked once).
func (t *tuner) held(s *Stage, tg *target, arms []string) bool {
	var seen [MaxArms]string
	for i, v := range arms {
		src := t.fam.action(tg, v)
		verb, _, _ := strings.Cut(src, " ")
		if slices.Contains(seen[:i], verb) {
			continue
		}
		seen[i] = verb
		if s.held(src) {
			return true
		}
	}
	return false
}

// finishStep scores the arm that was in place, then moves on.
func (t *tuner) finishStep(s *Stage, now uint64) {
	if t.n == 0 { // the objective had no sample: try again
		t.since, t.done, t.sq = now, 0, 0
		return
	}
	mean := t.sum / float64(t.n)
	harmful, drift := false, isDrifting(t.fam)
	switch {
	case t.arm != 0 && !t.haveB:
		// Measured before the original (an order that tries the likely
		// best first): scored once the original has been measured.
		t.b.hold(t.arm, mean, t.absErr(mean))
	case t.arm == 0:
		t.base, t.haveB = mean, true
		t.b.update(0, 0)
		t.b.noteSE(0, t.absErr(mean)/math.Max(math.Abs(mean), 1e-9))
		t.scoreHeld(s, now)
		if drift {
			t.rebase(s, now, mean)
		}
	default:
		harmful = t.score(s, now, t.arm, mean, t.absErr(mean))
		if drift {
			t.drift = drifted{arm: t.arm, mean: mean, base: t.base, r: t.lastR}
		}
	}
	t.steps++
	if harmful {
		t.harmful(s, now)
	}
	// A drifting trial settles only on an original, which has scored the
	// arm before it in full.
	if (t.steps >= s.cfg.MaxSteps || t.clear()) && (!drift || t.arm == 0) {
		t.settle(s, now)
		return
	}
	next := t.b.next()
	if drift {
		next = t.nextDrifting()
	}
	t.sum, t.sq, t.n, t.since, t.done = 0, 0, 0, now, 0
	if next == t.arm && t.harm != "" {
		next = 0 // not the harmful setting again at once
	}
	if next == t.arm && !harmful {
		return
	}
	t.arm = next
	if next == 0 {
		t.revert(s, now, t.because("re-measuring the original setting"))
		return
	}
	t.apply(s, now, t.arms[next], t.because(fmt.Sprintf("trial %d of %d (UCB1)", t.steps+1, s.cfg.MaxSteps)))
}

// harmful undoes the step just measured as harmful. A phased family's
// next write (the next trial's setting, the settled one or the
// original) replaces it in one write, made now: a revert and the next
// write at once were two writes of one knob within actuate's least
// interval (1 s), and the second was refused (rate_limited), so the next
// step measured the original under another setting's name. Other
// families revert first (their next step may be another knob).
func (t *tuner) harmful(s *Stage, now uint64) {
	why := fmt.Sprintf("harmful: %s %.0f%% worse than the original (bound %g%%)", t.fam.objective(), -100*t.lastR, s.cfg.HarmPct)
	if _, ok := t.fam.(phased); ok {
		t.harm = why
		return
	}
	t.revert(s, now, why)
}

// because is why, after the harm it also undoes (if any).
func (t *tuner) because(why string) string {
	if t.harm == "" {
		return why
	}
	h := t.harm
	t.harm = ""
	return h + "; " + why
}

// score gives arm the reward of its mean objective against the original's
// (se: the mean's standard error) and says whether it was harmful.
func (t *tuner) score(s *Stage, now uint64, arm int, mean, se float64) bool {
	scale := math.Max(math.Abs(t.base), 1e-9)
	r := relGain(mean, t.base)
	t.b.update(arm, r)
	t.b.noteSE(arm, se/scale)
	t.lastR = r
	s.effect(t, now, arm, t.base, mean, r)
	return r < -s.cfg.HarmPct/100
}

// relGain is the relative gain of x over base. A base near 0 (an idle
// window) makes any change look huge: the figure a person reads stays
// within ±1000 %.
func relGain(x, base float64) float64 {
	return math.Max(-10, math.Min(10, (x-base)/math.Max(math.Abs(base), 1e-9)))
}

// scoreHeld scores the arms measured before the original, now that it
// has been. They are no longer in place: one that was harmful has
// already cost its effect window and no more.
func (t *tuner) scoreHeld(s *Stage, now uint64) {
	for a := 1; a < t.b.n; a++ {
		if t.b.held[a] {
			t.b.held[a] = false
			t.score(s, now, a, t.b.heldM[a], t.b.heldSE[a])
		}
	}
}

// absErr is the standard error of the step's mean objective (its
// windows' samples): the noise of the measure the step was given.
func (t *tuner) absErr(mean float64) float64 {
	if t.n < 2 {
		return math.Inf(1)
	}
	v := math.Max(0, t.sq/float64(t.n)-mean*mean) * float64(t.n) / float64(t.n-1)
	return math.Sqrt(v / float64(t.n))
}

// settle keeps the best arm (or the original) and remembers it.
func (t *tuner) settle(s *Stage, now uint64) {
	t.exploit = true
	arm, gain := t.choose()
	t.gain = gain
	b := Best{Regime: t.regime, Target: t.tg.key, Value: t.arms[arm], Gain: gain, Trials: t.steps, Runoff: t.contenders(arm)}
	s.remember(b)
	why := fmt.Sprintf("best of %d trials: %+.0f%% %s", t.steps, 100*gain, t.fam.objective())
	t.arm = arm
	if arm == 0 {
		t.revert(s, now, t.because("settled on the original setting: "+why))
		return
	}
	t.apply(s, now, t.arms[arm], t.because("settled: "+why))
	t.beginRunoff(s, now, b)
}

// preferrer is a family whose settings differ in how much they give up
// (cpuFamily.yield): it keeps a setting only when its gain over the
// original stands out of the noise, and among those within noise of the
// best, the one that yields most.
type preferrer interface{ yield(value string) int }

// choose is the arm a trial keeps, with its gain: the best mean reward
// if it beats the original by minGain; for a preferrer, bandit.preferred.
// 0 is the original.
func (t *tuner) choose() (int, float64) {
	if p, ok := t.fam.(preferrer); ok {
		return t.b.preferred(func(i int) int { return p.yield(t.arms[i]) })
	}
	arm, gain := t.strongest(t.b.best())
	if arm <= 0 || gain < minGain {
		return 0, 0
	}
	return arm, gain
}

// end finishes the trial (regime change, target gone) and restores the
// original setting of a target still there.
func (t *tuner) end(s *Stage, now uint64, why string) {
	if t.keepPartial(s) {
		s.save()
	}
	// A target that has gone is restored too: actuate finds nothing to
	// restore for an exited process and says so.
	t.revert(s, now, why)
	t.active = false
}

// keepPartial remembers the best arm of a trial that ends before it
// settles (its target went, its regime ended, the daemon stops), when
// that arm beat the original by minGain over at least one full effect
// window each: a workload shorter than a whole trial still teaches its
// regime something, and its return gets that setting at once.
func (t *tuner) keepPartial(s *Stage) bool {
	if t.active && t.ro.on {
		return t.keepRunoff(s)
	}
	if _, ok := t.fam.(phased); ok || !t.active || t.exploit || t.mode != Act || t.b.pulls[0] == 0 {
		return false // a phased trial is paused instead, and goes on when its phase returns
	}
	arm, gain := t.choose()
	if arm <= 0 {
		return false
	}
	// No contenders: a runoff spilling into the next return took that
	// whole run (keepRunoff says what holds instead).
	s.keep(Best{Regime: t.regime, Target: t.tg.key, Value: t.arms[arm], Gain: gain, Trials: t.steps})
	return true
}

func (t *tuner) apply(s *Stage, now uint64, value, why string) {
	src := t.fam.action(&t.tg, value)
	if t.applied && t.mode == Act && !sameKnob(src, t.fam.action(&t.tg, t.setting)) {
		// Another kind of knob (sched after nice): the one in place goes
		// back first, so that each arm is measured alone.
		t.revert(s, now, "before "+src)
	}
	a, err := action.Parse(src)
	if err != nil {
		s.logf("tuner %s: bad action %q: %v", t.fam.name(), src, err)
		return
	}
	line := fmt.Sprintf("%s: %s (%s, confidence %.2f: %s); %s; %s", src, t.tg.key, t.tg.class, t.tg.conf, t.tg.why, t.where(), why)
	d := decide.Decision{TimeNs: now, Kind: decide.Apply, Policy: "tuner:" + t.fam.name(), Action: a, Reason: line}
	if t.mode != Act {
		d.Action = action.Action{Kind: action.Notify, Source: "notify"}
		d.Reason = "advice: would set " + line
	} else {
		t.applied, t.setting = true, value
	}
	t.last, t.changes = d.Reason, t.changes+1
	s.emit(d)
}

func (t *tuner) revert(s *Stage, now uint64, why string) {
	if !t.applied {
		return
	}
	a, err := action.Parse(t.fam.action(&t.tg, t.setting))
	if err != nil {
		return
	}
	t.applied, t.setting = false, ""
	line := fmt.Sprintf("restore %s of %s: %s", a.Key(), t.tg.key, why)
	t.last, t.changes = line, t.changes+1
	s.emit(decide.Decision{TimeNs: now, Kind: decide.Revert, Policy: "tuner:" + t.fam.name(), Action: a, Reason: line})
}

// sameKnob: two actions write the same knob (same key).
func sameKnob(a, b string) bool {
	x, err1 := action.Parse(a)
	y, err2 := action.Parse(b)
	return err1 == nil && err2 == nil && x.Key() == y.Key()
}

func (t *tuner) emitNote(s *Stage, now uint64, why string) {
	line := fmt.Sprintf("%s: %s; %s", t.tg.key, why, t.where())
	t.last = line
	s.emit(decide.Decision{TimeNs: now, Kind: decide.Apply, Policy: "tuner:" + t.fam.name(), Action: action.Action{Kind: action.Notify, Source: "notify"}, Reason: line})
}

// shedMembers drops the tasks that no longer belong to the target, each
// put back to its original setting alone: the others keep theirs, with
// no second write of their knobs (ending the trial and re-applying would
// write them twice within actuate's least interval, and the second write
// would be refused). A target left with no task ends.
func (t *tuner) shedMembers(s *Stage, sh shedder, now uint64) {
	for t.tg.npids > 0 {
		i, why, yes := sh.shed(s, &t.tg, now)
		if !yes {
			return
		}
		if t.applied {
			one := t.tg
			one.sel = pidSelector(t.tg.pids[i : i+1])
			if a, err := action.Parse(t.fam.action(&one, t.setting)); err == nil {
				line := fmt.Sprintf("restore %s of %s: %s", a.Key(), t.tg.key, why)
				t.last, t.changes = line, t.changes+1
				s.emit(decide.Decision{TimeNs: now, Kind: decide.Revert, Policy: "tuner:" + t.fam.name(), Action: a, Reason: line})
			}
		}
		copy(t.tg.pids[i:], t.tg.pids[i+1:t.tg.npids])
		t.tg.npids--
		t.tg.pids[t.tg.npids] = 0
		if t.tg.npids == 0 {
			t.applied = false
			t.end(s, now, why)
			return
		}
		t.tg.pid, t.tg.sel = t.tg.pids[0], pidSelector(t.tg.pids[:t.tg.npids])
	}
}

// growMembers gives the setting in place to the tasks the target gained,
// in one action naming only them: the knobs are per process, and ending
// the trial to re-apply it to the whole target would write the others'
// twice within actuate's least interval (the second refused).
func (t *tuner) growMembers(s *Stage, g grower, now uint64) {
	var add [action.MaxPids]uint32
	n, why := g.grown(s, &t.tg, t.setting, now, add[:])
	if n == 0 {
		return
	}
	more := t.tg
	more.sel = pidSelector(add[:n])
	a, err := action.Parse(t.fam.action(&more, t.setting))
	if err != nil {
		return
	}
	line := fmt.Sprintf("%s: %s; %s", t.fam.action(&more, t.setting), t.tg.key, why)
	t.last, t.changes = line, t.changes+1
	s.emit(decide.Decision{TimeNs: now, Kind: decide.Apply, Policy: "tuner:" + t.fam.name(), Action: a, Reason: line})
	t.tg.npids += copy(t.tg.pids[t.tg.npids:], add[:n])
	slices.Sort(t.tg.pids[:t.tg.npids])
	t.tg.pid, t.tg.sel = t.tg.pids[0], pidSelector(t.tg.pids[:t.tg.npids])
}
