package tune

import (
	"fmt"
	"strconv"

	"github.com/ainka/ainka/stages/decide/action"
)

// bounder is a family whose actuator moves its knob by a bounded step
// per write (actuate clamps nice to ±action.NiceSpec.MaxStepAbs per
// change): reach is what one write of value gets to from from, the
// value in place ("" the original).
//
// Without it the CPU tuner took its "nice 19" for done after one write
// that actuate clamped to nice 10 ("step bounded to ±10 per change"):
// the quiet-host bench run of 2026-11-28 19:49 measured its trial's
// nice 19 arm at nice 10, and every later run re-applied the learned
// nice 19 as nice 10 and left it there (cyclictest p99 201-357 µs
// against the oracle's nice 19 at 151-187).
type bounder interface {
	reach(tg *target, from, value string) string
}

// reaching is a setting on its way in bounded steps.
type reaching struct {
	on    bool
	value string // the setting asked for
	at    string // what the writes so far reached
	next  uint64 // event time of the next write
}

// reachGapNs is the event time between two writes of a knob on its way:
// actuate writes a knob at most once a second of real time
// (actuate.Config.KnobInterval), and event time trails the actuator's
// clock by up to the pipeline's lateness, hence the margin.
const reachGapNs = 1.2e9

// startReach notes, after a write of value from from, whether the knob
// has only part of the way: the next write follows after reachGapNs.
func (t *tuner) startReach(now uint64, from, value string) {
	t.rc = reaching{}
	b, ok := t.fam.(bounder)
	if !ok || t.mode != Act {
		return
	}
	if at := b.reach(&t.tg, from, value); at != value {
		t.rc = reaching{on: true, value: value, at: at, next: now + reachGapNs}
	}
}

// inPlace is the value the knob holds now: the one on its way stops
// where its last write reached.
func (t *tuner) inPlace() string {
	if t.rc.on {
		return t.rc.at
	}
	return t.setting
}

// stepReach writes the setting on its way again, and measures the arm
// from now on, when it is (more) in place: a trial or a runoff that
// counted the windows at the partial value measured another setting
// under this one's name.
func (t *tuner) stepReach(s *Stage, now uint64) {
	r := t.rc
	t.apply(s, now, r.value, fmt.Sprintf("the next step to %s from %s: the actuator moves it by a bounded step per write",
		t.fam.action(&t.tg, r.value), t.fam.action(&t.tg, r.at)))
	t.sum, t.sq, t.n, t.since = 0, 0, 0, now
}

// reach: a nice value more than NiceSpec.MaxStepAbs above the one in
// place gets that far; sched settings and the original are one write.
func (cpuFamily) reach(tg *target, from, value string) string {
	want, err := strconv.Atoi(value)
	if err != nil {
		return value
	}
	cur := tg.orig
	if n, err := strconv.Atoi(from); err == nil {
		cur = n
	}
	if step := int(action.NiceSpec.MaxStepAbs); step > 0 && want-cur > step {
		return strconv.Itoa(cur + step)
	}
	return value
}

// reachGrown: tasks a grown job's nice setting was just written to
// start from their own nice, and may get only part of the way: the
// whole job's setting is written again after reachGapNs (the tasks
// already there are left unchanged).
func (t *tuner) reachGrown(now uint64) {
	if t.rc.on {
		return
	}
	t.startReach(now, "", t.setting)
}
