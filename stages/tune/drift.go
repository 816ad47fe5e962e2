package tune

// drifting is a family whose objective moves with the workload whatever
// the setting: the memory tuner's (the protected task's faults rise as
// the hog beside it grows, at every swappiness). Scored against one
// original measured at the start, every later arm looked worse than it
// was: a bench run scored swappiness 30 at -116 % and 10 at -523 %
// against an original measured while the hog was small, and settled on
// the original, where setting 0 by hand made the task's p99 4.3× better.
//
// So the original is measured again before each other arm, and an arm's
// reward is its gain over the mean of the two originals measured just
// before and just after it, which cancels a drift linear over the three
// steps. Until the after-measurement exists, the arm is scored against
// the one before (what the harm bound reverts on).
type drifting interface{ drifting() }

func isDrifting(f family) bool {
	_, ok := f.(drifting)
	return ok
}

// drifted is the arm measured just before the latest original of a
// drifting family's trial, waiting for the original after it.
type drifted struct {
	arm        int     // 0: none waiting
	mean, base float64 // its objective, and the original before it
	r          float64 // the reward it was given against that original alone
}

// rebase amends the waiting arm's reward now that the original after it
// measured after: the reward becomes its gain over the mean of the two
// originals around it.
func (t *tuner) rebase(s *Stage, now uint64, after float64) {
	d := t.drift
	t.drift = drifted{}
	if d.arm == 0 {
		return
	}
	base := (d.base + after) / 2
	r := relGain(d.mean, base)
	t.b.amend(d.arm, d.r, r)
	s.effect(t, now, d.arm, base, d.mean, r)
}

// nextDrifting is the arm after t.arm in a drifting family's trial: the
// original after any other arm, the bandit's choice among the others
// after the original.
func (t *tuner) nextDrifting() int {
	if t.arm != 0 {
		return 0
	}
	return t.b.nextOther()
}
