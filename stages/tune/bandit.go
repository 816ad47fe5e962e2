package tune

import "math"

// MaxArms bounds a tuner's discrete set of settings.
const MaxArms = 6

// bandit is UCB1 over a tuner's arms: rewards are relative gains of the
// objective, clipped to -1 below and compressed above +100 % (reward);
// untried arms go first, in order (the family's order when it gives one,
// see orderer). It uses no randomness, so a replay explores exactly as
// the live run did.
type bandit struct {
	n      int
	pulls  [MaxArms]int
	reward [MaxArms]float64 // sums
	se2    [MaxArms]float64 // sums of the squared standard errors of the rewards
	// order, when ordered, is the order untried arms are tried in.
	order   [MaxArms]int8
	ordered bool
	// held: an arm measured before the original (arm 0) has no reward
	// yet, a reward being a gain over the original. Its mean objective
	// and that mean's standard error wait here for the original's measure.
	held   [MaxArms]bool
	heldM  [MaxArms]float64
	heldSE [MaxArms]float64
}

// setOrder makes untried arms go in the order given (a permutation of
// 0..n-1; anything else keeps the natural order).
func (b *bandit) setOrder(order []int) {
	if len(order) != b.n {
		return
	}
	var seen [MaxArms]bool
	for i, a := range order {
		if a < 0 || a >= b.n || seen[a] {
			b.ordered = false
			return
		}
		seen[a] = true
		b.order[i] = int8(a)
	}
	b.ordered = true
}

// untried is the next arm never measured, in order (-1 when none).
func (b *bandit) untried() int {
	for i := 0; i < b.n; i++ {
		a := i
		if b.ordered {
			a = int(b.order[i])
		}
		if b.pulls[a] == 0 && !b.held[a] {
			return a
		}
	}
	return -1
}

// hold keeps arm's measure until the original's is known.
func (b *bandit) hold(arm int, mean, se float64) {
	b.held[arm], b.heldM[arm], b.heldSE[arm] = true, mean, se
}

// ucbC scales exploration to the reward range: gains of a few tens of
// percent are what the tuners look for.
const ucbC = 0.3

func (b *bandit) next() int {
	if a := b.untried(); a >= 0 {
		return a
	}
	for i := 0; i < b.n; i++ {
		if b.pulls[i] == 0 { // held: the original is measured next
			return 0
		}
	}
	return b.ucb(0)
}

// nextOther is next among the arms but the original: a drifting family
// measures the original between them.
func (b *bandit) nextOther() int {
	if a := b.untried(); a > 0 {
		return a
	}
	return b.ucb(1)
}

// ucb is the arm from lo up with the highest upper confidence bound (an
// arm never pulled first).
func (b *bandit) ucb(lo int) int {
	total := 0
	for i := lo; i < b.n; i++ {
		if b.pulls[i] == 0 {
			return i
		}
		total += b.pulls[i]
	}
	best, bestV := lo, math.Inf(-1)
	for i := lo; i < b.n; i++ {
		v := b.mean(i) + ucbC*math.Sqrt(2*math.Log(float64(total))/float64(b.pulls[i]))
		if v > bestV {
			best, bestV = i, v
		}
	}
	return best
}

// amend replaces a reward arm was given (old) by a better estimate (r).
func (b *bandit) amend(arm int, old, r float64) {
	clip := func(x float64) float64 { return math.Max(-1, math.Min(1, x)) }
	b.reward[arm] += clip(r) - clip(old)
}

func (b *bandit) update(arm int, r float64) {
	b.pulls[arm]++
	b.reward[arm] += reward(r)
}

// reward maps a relative gain r to the bandit's reward: r within
// [-1, 1], 1 + ln r above (+300 % is 2.1, +900 % 3.3). Gains above
// +100 % were clipped to 1, which made them ties: a send buffer ×4
// (+300 %) lost to ×2 (+100 %), and a trial of congestion controls on a
// lossy link (bbr +317 %, reno +349 % over cubic) settled on bbr only
// because it came first.
func reward(r float64) float64 {
	if r > 1 {
		return 1 + math.Log(r)
	}
	return math.Max(-1, r)
}

func (b *bandit) mean(arm int) float64 {
	if b.pulls[arm] == 0 {
		return 0
	}
	return b.reward[arm] / float64(b.pulls[arm])
}

// best is the arm with the highest mean reward among those tried.
func (b *bandit) best() (int, float64) {
	best, bestV := -1, math.Inf(-1)
	for i := 0; i < b.n; i++ {
		if b.pulls[i] > 0 && b.mean(i) > bestV {
			best, bestV = i, b.mean(i)
		}
	}
	return best, bestV
}

// noteSE records the standard error of the reward just given to arm.
func (b *bandit) noteSE(arm int, se float64) {
	b.se2[arm] += se * se
}

// separated reports whether every arm has been tried and the leader's
// mean reward beats each other arm's by more than sepSE standard errors
// of the difference, or by less than minGain (a tie that more trials
// would not make worth a change): the answer is clear, and trials would
// only cost time in a phase that may be short.
func (b *bandit) separated() bool {
	best, bm := b.best()
	for i := 0; i < b.n; i++ {
		if b.pulls[i] == 0 {
			return false
		}
		if d := bm - b.mean(i); i != best && d >= minGain && d <= sepSE*math.Hypot(b.seMean(best), b.seMean(i)) {
			return false
		}
	}
	return best >= 0
}

// sepSE: three standard errors. The windows inside a step are not
// independent (a busy neighbour slows several in a row), so the error is
// underestimated: three rather than two.
const sepSE = 3

func (b *bandit) seMean(arm int) float64 {
	return math.Sqrt(b.se2[arm]) / float64(b.pulls[arm])
}

// preferred is the arm to keep when measurements alone may not decide:
// of the arms whose gain over the original (arm 0) is at least minGain
// and sepSE standard errors (the rewards are relative to the original's
// measured mean, whose error adds in: one unlucky measurement of the
// original makes every setting look better), those within sepSE standard
// errors of the best one's gain tie (tied), and the one rank puts
// highest wins (then the higher mean). None beats the original: 0.
func (b *bandit) preferred(rank func(arm int) int) (int, float64) {
	var buf [MaxArms]int
	ties := b.tied(buf[:0])
	if len(ties) == 0 {
		return 0, 0
	}
	pick := ties[0]
	for _, i := range ties[1:] {
		if r, rp := rank(i), rank(pick); r > rp || r == rp && b.mean(i) > b.mean(pick) {
			pick = i
		}
	}
	return pick, b.mean(pick)
}

// tied appends to out the arms that beat the original and whose gains
// are within sepSE standard errors of the best such gain, the best
// first: the trial cannot tell them apart.
func (b *bandit) tied(out []int) []int {
	top := -1
	for i := 1; i < b.n; i++ {
		if b.beatsOriginal(i) && (top < 0 || b.mean(i) > b.mean(top)) {
			top = i
		}
	}
	if top < 0 {
		return out
	}
	out = append(out, top)
	for i := 1; i < b.n; i++ {
		if i != top && b.beatsOriginal(i) && b.mean(top)-b.mean(i) <= sepSE*math.Hypot(b.seMean(top), b.seMean(i)) {
			out = append(out, i)
		}
	}
	return out
}

// beatsOriginal: the arm's mean reward is at least minGain and clear of
// the noise of its own and the original's measurements.
func (b *bandit) beatsOriginal(arm int) bool {
	if b.pulls[arm] == 0 || b.pulls[0] == 0 {
		return false
	}
	m := b.mean(arm)
	return m >= minGain && m > sepSE*math.Hypot(b.seMean(arm), b.seMean(0))
}
