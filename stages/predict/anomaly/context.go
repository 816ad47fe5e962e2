package anomaly

import "math"

// ctxBins is the number of value bins of the sequence model; its table is
// ctxBins^3 counts, a fixed array so that a detector never allocates.
const ctxBins = 16

// sequence is an order-2 Markov model of the quantised series: it learns
// how often bin c follows bins (a, b) and scores how surprising the
// observed successor is. It catches anomalies that stay inside the usual
// range but break the usual shape (a daily pattern that does not happen,
// a plateau where the series usually moves), which deviation scores miss.
type sequence struct {
	Counts [ctxBins * ctxBins * ctxBins]float32
	Totals [ctxBins * ctxBins]float32
	Last   [ctxBins * ctxBins]int64 // sample index of each context's last decay
	A, B   int32
	Seen   int32
}

// bin maps x into [0, ctxBins) over the range [lo, hi].
func bin(x, lo, hi float64) int32 {
	if !(hi > lo) {
		return ctxBins / 2
	}
	i := int32((x - lo) / (hi - lo) * ctxBins)
	if i < 0 {
		return 0
	}
	if i >= ctxBins {
		return ctxBins - 1
	}
	return i
}

// update returns the surprise of bin c after the current context, in [0,1],
// and learns the transition. decay is the
// per-sample forgetting factor applied lazily to the touched context.
func (s *sequence) update(c int32, n int64, decay float64, learn bool) float64 {
	if s.Seen < 2 {
		s.A, s.B = s.B, c
		s.Seen++
		return 0
	}
	ctx := s.A*ctxBins + s.B
	row := s.Counts[ctx*ctxBins : ctx*ctxBins+ctxBins]
	if !learn {
		// Frozen: score without forgetting or counting, but follow the
		// context.
		decay = 1
	}
	if decay < 1 && s.Last[ctx] != n {
		f := float32(math.Pow(decay, float64(n-s.Last[ctx])))
		for i := range row {
			row[i] *= f
		}
		s.Totals[ctx] *= f
		s.Last[ctx] = n
	}
	// Surprise relative to the most likely successor, with the neighbouring
	// bins counted at half weight: noise that wobbles across a bin edge of a
	// well-learned transition scores near 0, a transition never seen scores
	// near 1 (like the share of unpredicted columns in HTM).
	const prior = 0.05
	var best, mine float64
	for j := range row {
		v := float64(row[j])
		if j > 0 {
			v += 0.5 * float64(row[j-1])
		}
		if j < ctxBins-1 {
			v += 0.5 * float64(row[j+1])
		}
		best = math.Max(best, v)
		if int32(j) == c {
			mine = v
		}
	}
	// A context seen rarely (or never) is itself a surprise.
	tot := float64(s.Totals[ctx])
	raw := 1 - (mine+prior)/(best+prior)*tot/(tot+1)
	if learn {
		row[c]++
		s.Totals[ctx]++
	}
	s.A, s.B = s.B, c
	return raw
}
