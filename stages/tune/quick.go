package tune

import (
	"math"
	"slices"
)

// A trial's cost is the time it spends on settings that are not the
// best: the original, measured so that gains mean something, and the
// settings that turn out harmful or weak. On the bench's cpu-contention
// (12 s runs, p99 over the whole run) the CPU tuner's first run spent
// about 4 s of its measurement at the original's level or near it (the
// original, then SCHED_BATCH, 2 s each), went back through UCB1 steps
// over settings the trial had already found tied, and the runoff that
// was to decide them spilled into the next run (docs/bench.md, session
// 8). Three rules make it cheaper, each within the trial's harm bound:
//
//   - A step of a quicker family ends once what it measured is sure
//     enough (answered), not at the end of its effect window.
//   - A preferrer's trial settles once what is left undecided is between
//     settings that all beat the original (bandit.onlyTies): that is
//     the runoff's to decide, in turns, without the original or the
//     weak settings again.
//   - A sticky family's trial goes on through a change of regime that
//     lasts less than one effect window (excursion).

// quicker is a family whose objective answers a setting within a window
// or two: the scheduler weighs a task by its new nice or policy at its
// next switch, and the latency tasks' longest waits follow in the next
// 100 ms window.
type quicker interface{ quick() }

func (cpuFamily) quick() {}

const (
	// quickNs is the least a step lasts: actuate writes a knob at most
	// once a second of real time, and event time trails the actuator's
	// clock by up to the pipeline's lateness, hence the margin (a step
	// of exactly 1 s would have its next write refused as rate-limited,
	// and be measured under the next step's name).
	quickNs = 1.2e9
	// quickSE: a step whose mean objective is known within this share
	// (its windows' standard error over its mean) is answered. Every
	// comparison the trial makes is sepSE (3) standard errors wide, so a
	// step ended here tells apart gains 20 % or more apart (3 × √2 ×
	// 5 %); closer ones tie, and the runoff decides between ties.
	quickSE = 0.05
	// quickMin: the least number of windows a standard error is taken
	// from.
	quickMin = 8
)

// answered reports whether a quicker family's step has measured enough:
// at least quickNs since it began and quickMin windows, with the mean's
// standard error within quickSE of the mean. A step cut short this way
// is never longer than its effect window, so the harm bound (a harmful
// step reverted at the end of its effect window) holds, and tightens.
func (t *tuner) answered(now uint64) bool {
	if _, ok := t.fam.(quicker); !ok || now-t.since < quickNs || t.n < quickMin {
		return false
	}
	mean := t.sum / float64(t.n)
	return t.absErr(mean) <= quickSE*math.Abs(mean)
}

// onlyTies reports whether every arm has been measured, the leader beats
// the original clearly (beatsOriginal), and every arm within sepSE
// standard errors of it (and not minGain behind) also beats the original:
// the arms the trial cannot tell from the leader are all contenders of
// a runoff, and more UCB1 steps would only measure them again, through
// the original and the weak arms in between.
func (b *bandit) onlyTies() bool {
	var buf [MaxArms]int
	ties := b.tied(buf[:0])
	best, bm := b.best()
	if len(ties) < 2 || ties[0] != best {
		return false
	}
	for i := 0; i < b.n; i++ {
		if b.pulls[i] == 0 {
			return false
		}
		d := bm - b.mean(i)
		if i != best && d >= minGain && d <= sepSE*math.Hypot(b.seMean(best), b.seMean(i)) && !slices.Contains(ties, i) {
			return false
		}
	}
	return true
}

// excursion reports whether a sticky family's trial (act mode) goes on
// although the host's regime is not the trial's: for one effect window
// after it left. The target is a job, and the regime is the whole
// host's: other sessions' disk writes flip it for a few windows, and the
// trial ended and started over, the original measured again (a bench run
// of 2026-11-28 23:46 lost 2.3 s of a 12 s run to a flip that lasted
// under half a second; run b3 of session 7 lost its trial after two
// steps). The windows of the excursion are measured as any others: a
// step's length, and so the harm bound, are unchanged. A regime that
// stays away longer ends the trial as before.
func (t *tuner) excursion(s *Stage, now uint64) bool {
	if !isSticky(t.fam) || t.mode != Act {
		return false
	}
	if t.away == 0 {
		t.away = now
	}
	return now-t.away < uint64(s.cfg.EffectWindow.Nanoseconds())
}
