package tune

import "math"

// MaxArms bounds a tuner's discrete set of settings.
const MaxArms = 6

// bandit is UCB1 over a tuner's arms: rewards are relative gains of the
// objective clipped to [-1, 1]; untried arms go first, in order. It uses
// no randomness, so a replay explores exactly as the live run did.
type bandit struct {
	n      int
	pulls  [MaxArms]int
	reward [MaxArms]float64 // sums
	se2    [MaxArms]float64 // sums of the squared standard errors of the rewards
}

// ucbC scales exploration to the reward range: gains of a few tens of
// percent are what the tuners look for.
const ucbC = 0.3

func (b *bandit) next() int {
	total := 0
	for i := 0; i < b.n; i++ {
		if b.pulls[i] == 0 {
			return i
		}
		total += b.pulls[i]
	}
	best, bestV := 0, math.Inf(-1)
	for i := 0; i < b.n; i++ {
		v := b.mean(i) + ucbC*math.Sqrt(2*math.Log(float64(total))/float64(b.pulls[i]))
		if v > bestV {
			best, bestV = i, v
		}
	}
	return best
}

func (b *bandit) update(arm int, r float64) {
	b.pulls[arm]++
	b.reward[arm] += math.Max(-1, math.Min(1, r))
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
