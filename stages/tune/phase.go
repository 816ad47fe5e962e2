package tune

import (
	"fmt"
	"slices"
	"time"
)

// phased is a family whose targets' keys already name the workload phase
// a setting is for: readahead's "readahead/loop0/sequential" is the
// device and its access pattern. Its trials and best settings belong to
// that phase, not to the host's regime. The host regime also moves with
// work the knob does not touch (other processes' CPU, other devices'
// I/O, the step's own change of request sizes): a trial ended by such a
// flip was thrown away before it measured anything (loop0 set to 5120
// KiB and reverted 0.1 s later, "regime r12 ended"), and the best it
// would have found was filed under a regime that never came back the
// same. The device's pattern has its own hysteresis (the classifier's
// moving average, a band between sequential and random where neither
// holds, and a minimum of reads), so a single odd window does not end a
// trial either.
//
// A phased trial that its phase leaves is paused, not dropped: when the
// phase returns, the trial goes on with the step it was measuring and
// the measurements it had. Phases shorter than the trials (a reader
// switching every few seconds) are learned over several returns.
type phased interface {
	// phaseStart is the event time the target's current phase began:
	// time to best is measured from it.
	phaseStart(s *Stage, tg *target, now uint64) uint64
}

// phaseRegime is the regime of phased families' trials and best
// settings: they hold in every host regime.
const phaseRegime = 0

// maxPaused bounds a tuner's paused trials (the least recently paused
// goes first): a few devices × two patterns.
const maxPaused = 8

// pausedTrial is what a trial had measured when its phase ended.
type pausedTrial struct {
	key   string
	at    uint64 // event time it was paused
	arms  []string
	b     bandit
	arm   int
	base  float64
	haveB bool
	steps int
	sum   float64
	sq    float64
	n     int
	done  uint64 // event time of the arm's effect window already measured
}

// keyed is a family whose target keys, like a phased family's, name the
// workload a setting is for, but whose trials are not paused: the TCP
// tuner's "tcp/host/lossy/congestion_control" is a network namespace and
// the loss on its links. Which congestion control suits a lossy link
// does not depend on what the host's CPU and disks do, and the host
// regime moves with them: filed under a host regime, a best learned in
// one run was not found in the next (whose regime had another number)
// and was explored again, and a settled trial was ended, its setting
// restored, by a regime flip that other work caused. Its trials and
// bests belong to phaseRegime.
type keyed interface {
	// workload names the target's workload for a person.
	workload(tg *target) string
	// workStart is the event time the target's workload began: time to
	// best is measured from it.
	workStart(s *Stage, tg *target, now uint64) uint64
}

// ownScope reports whether f's trials and bests hold in every host
// regime (phased and keyed families).
func ownScope(f family) bool {
	_, p := f.(phased)
	_, k := f.(keyed)
	return p || k
}

// scope is the regime a trial of t belongs to now.
func (t *tuner) scope(s *Stage) uint32 {
	if ownScope(t.fam) {
		return phaseRegime
	}
	return s.reg.cur
}

// where names the trial's scope for a person.
func (t *tuner) where() string {
	if k, ok := t.fam.(keyed); ok {
		return k.workload(&t.tg)
	}
	if _, ok := t.fam.(phased); ok {
		return "phase " + t.tg.sel + "/" + t.tg.class.String()
	}
	return fmt.Sprintf("regime r%d", t.regime)
}

// workloadStart is when the workload a best setting is re-applied for
// began: the phase of a phased target, the workload of a keyed one, else
// the host regime's streak.
func (t *tuner) workloadStart(s *Stage, now uint64) uint64 {
	if p, ok := t.fam.(phased); ok {
		return p.phaseStart(s, &t.tg, now)
	}
	if k, ok := t.fam.(keyed); ok {
		return k.workStart(s, &t.tg, now)
	}
	return s.switchNs
}

// pause ends the trial of a phased family whose phase has ended,
// keeping what it measured for when the phase returns. It reports false
// (nothing done) for other families.
func (t *tuner) pause(s *Stage, now uint64) bool {
	if _, ok := t.fam.(phased); !ok {
		return false
	}
	if t.exploit || t.mode != Act {
		t.linger(s, now, "phase ended")
		return true
	}
	t.store(t.snapshot(s, now))
	// Written at once: a daemon that crashes keeps what its phases had
	// measured (at most the present phase's progress is lost).
	s.save()
	s.logf("tuner %s: %s left its %s phase (pattern changed or reads stopped); trial paused after %d of %d steps, to go on when the phase returns",
		t.fam.name(), t.tg.sel, t.tg.class, t.steps, s.cfg.MaxSteps)
	t.linger(s, now, "phase ended; trial paused")
	return true
}

// resume goes on with a paused trial of the target t was just started
// on: the step it was measuring is put back in place.
func (t *tuner) resume(s *Stage, now uint64) bool {
	i := 0
	for ; i < len(t.paused) && t.paused[i].key != t.tg.key; i++ {
	}
	if i == len(t.paused) {
		return false
	}
	p := t.paused[i]
	t.paused = append(t.paused[:i], t.paused[i+1:]...)
	if !slices.Equal(p.arms, t.arms) { // the original setting changed: other arms
		return false
	}
	t.b, t.arm, t.base, t.haveB, t.steps, t.sum, t.sq, t.n, t.done = p.b, p.arm, p.base, p.haveB, p.steps, p.sum, p.sq, p.n, p.done
	t.since = now
	// The write that puts the step back in place and the step's next
	// write are one knob's: at least actuate's least interval between
	// writes apart, or the second is refused (a step paused near its end
	// and resumed finished 0.8 s later, and its successor's write was
	// rate_limited). The samples it had stay; only its time is extended.
	if ew, gap := uint64(s.cfg.EffectWindow.Nanoseconds()), s.lingerMax(); t.done+uint64(gap) > ew {
		t.done = ew - min(ew, uint64(gap))
	}
	if t.arm != 0 {
		t.lg.on = false
		t.apply(s, now, t.arms[t.arm], fmt.Sprintf("trial %d of %d (UCB1), resumed: the phase returned", t.steps+1, s.cfg.MaxSteps))
	} else {
		t.dropLinger(s, now)
	}
	return true
}

// clear reports whether a phased or keyed trial may settle before
// MaxSteps: every setting has been measured and the best is clearly the
// best (bandit separated). Phases are short; a trial that goes on after
// the answer is clear pays for it in every phase it spans, and a lossy
// link pays for every effect window it spends on a loss-based
// congestion control (the first run of tcp-lossy-cubic settled on bbr
// after 4 trials, 13 s, when it had been clearly the best after 3).
// A dominator's trial is also clear once the arms it has not measured
// cannot win (dominated). A preferrer's (the CPU tuner's) is clear when
// separated too, or when only ties are left (bandit.onlyTies: its runoff
// decides them, quick.go). Other families run their MaxSteps.
func (t *tuner) clear() bool {
	if _, ok := t.fam.(preferrer); ok {
		return t.b.separated() || t.b.onlyTies()
	}
	if !ownScope(t.fam) {
		return false
	}
	if d, ok := t.fam.(dominator); ok && d.dominated(&t.tg, t.arms, &t.b) {
		return true
	}
	return t.b.separated()
}

// dominator is a family that can tell from the arms measured so far that
// the ones not measured yet cannot beat the best of them.
type dominator interface {
	dominated(tg *target, arms []string, b *bandit) bool
}

// lingering is a setting a phased trial left in place when its phase
// ended. Restoring the original at once and writing the next phase's
// setting a window later are two writes of one knob within actuate's
// least interval between writes (1 s): the second was refused
// (rate_limited) and a returning sequential phase kept the random
// phase's readahead. So the setting stays until the next phase's target
// is known: its setting replaces it in one write, or the original is
// restored (no setting for it, another device, or after lingerMax).
type lingering struct {
	on      bool
	tg      target
	setting string
	why     string
	at      uint64
}

// linger ends the trial and leaves its setting in place, if any.
func (t *tuner) linger(s *Stage, now uint64, why string) {
	if t.applied {
		t.lg = lingering{on: true, tg: t.tg, setting: t.setting, why: why, at: now}
		t.applied, t.setting = false, ""
	}
	t.active = false
}

// lingerMax bounds how long a setting outlives its phase: within one
// effect window, the harm bound's time. It is also the least time
// between two writes of one knob a resumed step keeps: actuate's
// interval (1 s), or the effect window if shorter.
func (s *Stage) lingerMax() time.Duration {
	return min(time.Second, s.cfg.EffectWindow)
}

// lingerExpire restores a lingering setting no phase took over in time.
func (t *tuner) lingerExpire(s *Stage, now uint64) {
	if t.lg.on && now-t.lg.at >= uint64(s.lingerMax().Nanoseconds()) {
		t.dropLinger(s, now)
	}
}

// dropLinger restores the original setting of a lingering one.
func (t *tuner) dropLinger(s *Stage, now uint64) {
	if !t.lg.on {
		return
	}
	t.lg.on = false
	tg, applied, setting := t.tg, t.applied, t.setting
	t.tg, t.applied, t.setting = t.lg.tg, true, t.lg.setting
	t.revert(s, now, t.lg.why)
	t.tg, t.applied, t.setting = tg, applied, setting
}
