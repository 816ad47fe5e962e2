package tune

import (
	"fmt"
	"math"
	"strings"

	"github.com/ainka/ainka/stages/features"
)

// A runoff decides between the settings a preferrer's trial could not
// tell apart: each beat the original clearly, their gains were within
// noise of each other, and the trial kept the one that yields most
// (cpuFamily.yield). That rank is a guess, and on this host it guessed
// wrong: in the full bench run of 2026-11-28 the tuner measured
// SCHED_IDLE +60 % and nice 19 +64 % (one 2 s step each), kept
// SCHED_IDLE by the rank, and re-applied it in every later run, while
// the hogs at nice 19 gave the latency task a p99 of 199 µs against
// SCHED_IDLE's 282 µs (the oracle arms); on busier hosts the order was
// the other way (docs/bench-history.md). So the contenders are measured
// against each other, in turns (A B A B: a drift of the host weighs on
// both alike), runoffRounds effect windows each, and the better mean
// objective is kept; the rank decides only between contenders within
// minGain of each other. Every contender beat the original clearly, so
// no step of a runoff is a harm the bound counts.
//
// The runoff runs right after a trial settles, in the same run (a trial
// cut short keeps its pick with no contenders), or when a target whose
// best was kept with contenders (Best.Runoff: a daemon killed before it
// could save the runoff's end) returns: its best is applied at once as
// before, the runoff follows. One cut short is decided with what it
// measured (keepRunoff).
type runoff struct {
	on   bool
	n    int              // contenders
	arms [MaxArms]int     // their arms, the one in place when it began first
	gain [MaxArms]float64 // their gains over the original in the trial
	at   int              // steps measured; contender at%n is in place
	sum  [MaxArms]float64 // sums of the contenders' step means
	k    [MaxArms]int     // steps measured per contender
	base int              // the trials the kept best came from
	// the contenders' window samples: their noise decides what is a tie
	ws, wsq [MaxArms]float64
	nw      [MaxArms]int
}

// runoffRounds is how many turns each contender is measured at least;
// while the leader is neither within minGain of the others nor sepSE
// standard errors clear of them (runoff.clear), the turns go on, up to
// runoffMaxRounds each. Since 2026-11-28 (session 8) a trial settles as
// soon as only ties are left (bandit.onlyTies), with fewer measurements
// of its contenders than its UCB1 steps used to make: two turns of ±40 %
// windows could not tell a gap of 20 % (TestCPUTunerRunoffKeepsTheBetterOfTied).
const (
	runoffRounds    = 2
	runoffMaxRounds = 4
)

// contenders is what a kept best carries into a runoff: the arms tied
// with pick, pick first (nil unless the family is a preferrer and more
// than one arm ties).
func (t *tuner) contenders(pick int) []Contender {
	if _, ok := t.fam.(preferrer); !ok || pick <= 0 {
		return nil
	}
	var buf [MaxArms]int
	ties := t.b.tied(buf[:0])
	if len(ties) < 2 {
		return nil
	}
	out := []Contender{{Value: t.arms[pick], Gain: t.b.mean(pick)}}
	for _, a := range ties {
		if a != pick {
			out = append(out, Contender{Value: t.arms[a], Gain: t.b.mean(a)})
		}
	}
	return out
}

// beginRunoff starts a runoff between b's contenders that are among the
// target's arms; b.Value, the first, is in place. Fewer than two: none.
func (t *tuner) beginRunoff(s *Stage, now uint64, b Best) {
	r := runoff{}
	for _, c := range b.Runoff {
		for a := 1; a < len(t.arms); a++ {
			if t.arms[a] == c.Value && r.n < MaxArms && !r.has(a) {
				r.arms[r.n], r.gain[r.n] = a, c.Gain
				r.n++
			}
		}
	}
	if r.n < 2 || t.mode != Act || r.arms[0] != t.armOf(b.Value) {
		return
	}
	r.on, r.base = true, b.Trials
	t.ro = r
	t.sum, t.sq, t.n, t.since = 0, 0, 0, now
	s.logf("tuner %s: runoff between %s for %s (%s): their gains were within noise of each other", t.fam.name(), r.names(t), t.tg.key, t.where())
}

func (r *runoff) has(arm int) bool {
	for i := 0; i < r.n; i++ {
		if r.arms[i] == arm {
			return true
		}
	}
	return false
}

// names lists the contenders' settings for a person.
func (r *runoff) names(t *tuner) string {
	var b strings.Builder
	for i := 0; i < r.n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.fam.action(&t.tg, t.arms[r.arms[i]]))
	}
	return b.String()
}

// armOf is the index of value among the arms (-1: none).
func (t *tuner) armOf(value string) int {
	for a, v := range t.arms {
		if v == value {
			return a
		}
	}
	return -1
}

// runoffStep measures the contender in place for one window; at the end
// of its effect window the next one takes its turn, and after
// runoffRounds turns each, and a clear answer or runoffMaxRounds turns
// each, the runoff ends.
func (t *tuner) runoffStep(s *Stage, v *features.Vector) {
	now := v.EndNs
	if now < t.since+s.windowNs { // the change settles for one window
		return
	}
	r := &t.ro
	if x, ok := t.fam.measure(s, v, &t.tg); ok {
		t.sum += x
		t.sq += x * x
		t.n++
		i := r.at % r.n
		r.ws[i] += x
		r.wsq[i] += x * x
		r.nw[i]++
	}
	if now-t.since < uint64(s.cfg.EffectWindow.Nanoseconds()) && !t.answered(now) {
		return
	}
	if t.n > 0 { // else the same contender again
		i := r.at % r.n
		r.sum[i] += t.sum / float64(t.n)
		r.k[i]++
		r.at++
	}
	t.sum, t.sq, t.n, t.since = 0, 0, 0, now
	if r.at%r.n == 0 && (r.at >= runoffMaxRounds*r.n || r.at >= runoffRounds*r.n && r.clear()) {
		t.endRunoff(s, now)
		return
	}
	if next := t.arms[r.arms[r.at%r.n]]; next != t.setting {
		t.apply(s, now, next, fmt.Sprintf("runoff between %s, turn %d of %d to %d", r.names(t), r.at+1, runoffRounds*r.n, runoffMaxRounds*r.n))
	}
}

// leader is the contender with the best mean objective over its turns;
// contenders within minGain of it, or within sepSE standard errors of
// their windows (the trial's rule, bandit.tied), tie, and the family's
// rank decides among them. ok is false until every contender has had a
// turn. Judged by minGain alone (the runoff until 2026-11-28), two
// turns of 2 s each kept nice 19 over SCHED_IDLE for a gap of 8 %
// (b2, docs/bench.md) and 18 % (19:49) where the windows' noise was
// several times that, and the oracle's SCHED_IDLE was as good or better
// in both runs.
func (t *tuner) leader() (int, bool) {
	r := &t.ro
	best := -1
	for i := 0; i < r.n; i++ {
		if r.k[i] == 0 {
			return 0, false
		}
		if best < 0 || r.mean(i) > r.mean(best) {
			best = i
		}
	}
	p, _ := t.fam.(preferrer)
	pick := best
	for i := 0; i < r.n; i++ {
		d := r.mean(best) - r.mean(i)
		if i == best || d >= minGain*math.Abs(r.mean(best)) && d > sepSE*math.Hypot(r.se(best), r.se(i)) {
			continue
		}
		if p != nil && p.yield(t.arms[r.arms[i]]) > p.yield(t.arms[r.arms[pick]]) {
			pick = i
		}
	}
	return pick, true
}

func (r *runoff) mean(i int) float64 { return r.sum[i] / float64(r.k[i]) }

// clear reports whether more turns would not change the answer: every
// contender has had a turn, and each is within minGain of the leader
// (a gap not worth a change) or more than sepSE standard errors of
// their windows behind it.
func (r *runoff) clear() bool {
	best := 0
	for i := 0; i < r.n; i++ {
		if r.k[i] == 0 {
			return false
		}
		if r.mean(i) > r.mean(best) {
			best = i
		}
	}
	for i := 0; i < r.n; i++ {
		d := r.mean(best) - r.mean(i)
		if i != best && d >= minGain*math.Abs(r.mean(best)) && d <= sepSE*math.Hypot(r.se(best), r.se(i)) {
			return false
		}
	}
	return true
}

// se is the standard error of contender i's mean objective, from its
// windows (infinite with fewer than two).
func (r *runoff) se(i int) float64 {
	n := float64(r.nw[i])
	if n < 2 {
		return math.Inf(1)
	}
	m := r.ws[i] / n
	return math.Sqrt(math.Max(0, r.wsq[i]/n-m*m) / (n - 1))
}

// endRunoff keeps the leader, remembers it (the runoff is decided: the
// next return applies it with no runoff) and says why.
func (t *tuner) endRunoff(s *Stage, now uint64) {
	r := &t.ro
	r.on = false
	w, ok := t.leader()
	if !ok {
		return
	}
	arm := r.arms[w]
	t.gain = r.gain[w]
	s.remember(Best{Regime: t.regime, Target: t.tg.key, Value: t.arms[arm], Gain: r.gain[w], Trials: r.base + r.at})
	why := "runoff decided: " + t.standings()
	if t.arms[arm] == t.setting {
		t.emitNote(s, now, "keeps "+t.fam.action(&t.tg, t.setting)+"; "+why)
		return
	}
	t.apply(s, now, t.arms[arm], why)
}

// standings gives each contender's mean objective in the runoff (every
// contender has had a turn).
func (t *tuner) standings() string {
	r := &t.ro
	var b strings.Builder
	for i := 0; i < r.n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %.4g over %d", t.fam.action(&t.tg, t.arms[r.arms[i]]), r.mean(i), r.k[i])
	}
	return t.fam.objective() + ": " + b.String()
}

// keepRunoff remembers what a runoff cut short (target gone, daemon
// stopping) has decided: the leader when every contender has had a
// turn, else the contender in place first (the trial's pick, the rank's
// among settings within noise of each other). It is remembered decided:
// the next return applies it at once and runs no runoff. Until
// 2026-11-28 (session 8) the contenders were kept and the runoff ran
// again at the next return, and on the bench a runoff cut short by the
// end of the first run took the whole second (p99 353 µs against the
// re-applied runs' 164-279). The harm bound that holds instead: every
// contender beat the original by at least minGain and sepSE standard
// errors in the trial, and the one kept is within sepSE standard errors
// of the best measured (the runoff's or the trial's), so it gives up
// no more than the noise of those measurements against the best.
func (t *tuner) keepRunoff(s *Stage) bool {
	r := &t.ro
	w, ok := t.leader()
	if !ok {
		w = 0
	}
	s.keep(Best{Regime: t.regime, Target: t.tg.key, Value: t.arms[r.arms[w]], Gain: r.gain[w], Trials: r.base + r.at})
	return true
}
