package tune

import (
	"fmt"

	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/features"
)

// cpuFamily lowers the priority (nice) of a discovered batch hog when
// latency-sensitive tasks wait to run. It never raises anyone's priority:
// every setting is above the original nice (actuate's nice range starts at
// 0, and its step bound of 10 per change takes 19 in two steps).
//
// Objective: the mean time latency-sensitive tasks wait to run, weighted
// by their runs, negated (higher is better).
type cpuFamily struct{}

func (cpuFamily) name() string      { return "cpu" }
func (cpuFamily) objective() string { return "latency tasks' run-queue wait" }

// minRunqUs: below this mean wait nobody suffers enough to act.
const minRunqUs = 50

func (cpuFamily) find(s *Stage, now uint64) (target, bool) {
	var hog *taskEnt
	hogConf, suffer := 0.0, false
	for i := 0; i < s.tr.nTasks; i++ {
		e := &s.tr.tasks[i]
		if now-e.lastNs > 2*s.windowNs || e.pid <= 1 {
			continue
		}
		c, conf := classifyTask(e)
		switch {
		case c == Batch && conf >= minConfidence && (hog == nil || e.cpuShare > hog.cpuShare) && !s.settled(e.pid) &&
			(s.cfg.AllowPID == nil || s.cfg.AllowPID(e.pid)):
			hog, hogConf = e, conf
		case c == Latency && conf >= minConfidence && e.runqUs >= minRunqUs:
			suffer = true
		}
	}
	if hog == nil || !suffer {
		return target{}, false
	}
	comm := decode.CommString(&hog.comm)
	tg := target{
		key: "cpu/" + comm + "/batch", sel: fmt.Sprintf("pid:%d", hog.pid), pid: hog.pid,
		class: Batch, conf: hogConf, why: explainTask(hog),
	}
	if s.cfg.CPU == Act {
		// Only acting needs the live value; advice (and replays) never
		// read the host, so they stay deterministic.
		n, err := s.original(tg.sel, func() (int, error) { return s.cfg.Nice(int(hog.pid)) })
		if err != nil {
			return target{}, false
		}
		tg.orig = n
	}
	return tg, true
}

// arms are the nice values above the target's original one.
func (cpuFamily) arms(tg *target) []string {
	arms := []string{""}
	for _, n := range []int{5, 10, 19} {
		if n > tg.orig {
			arms = append(arms, fmt.Sprint(n))
		}
	}
	return arms
}

func (cpuFamily) action(tg *target, value string) string {
	return "nice " + tg.sel + " = " + value
}

func (cpuFamily) alive(s *Stage, tg *target, now uint64) bool {
	return s.tr.findTask(tg.pid, now) != nil
}

func (cpuFamily) measure(s *Stage, v *features.Vector, tg *target) (float64, bool) {
	var wait, runs float64
	for i := 0; i < v.NumTasks; i++ {
		f := &v.Tasks[i]
		if f.PID == tg.pid || f.Runs == 0 {
			continue
		}
		e := s.tr.findTask(f.PID, v.EndNs)
		if e == nil {
			continue
		}
		if c, conf := classifyTask(e); c != Latency || conf < minConfidence {
			continue
		}
		wait += f.RunqUs * float64(f.Runs)
		runs += float64(f.Runs)
	}
	if runs < 5 {
		return 0, false
	}
	return -wait / runs, true
}
