package decide

import (
	"math"

	"github.com/ainka/ainka/stages/features"
)

// historyLen is how many windows the effect measurement can look back:
// at the default 100 ms interval, almost seven minutes, more than any
// settle time plus effect window.
const historyLen = 4096

// history is a ring of the latest windows' feature values, in event
// time order, for measuring the effect of actions.
type history struct {
	ring []histEntry
	n    int // entries filled, up to len(ring)
	head int // next entry to write
}

type histEntry struct {
	t uint64
	v [features.Count]float64
}

func newHistory(n int) *history { return &history{ring: make([]histEntry, n)} }

// add records a window's values at event time t.
func (h *history) add(t uint64, v *[features.Count]float64) {
	e := &h.ring[h.head]
	e.t, e.v = t, *v
	h.head = (h.head + 1) % len(h.ring)
	if h.n < len(h.ring) {
		h.n++
	}
}

func (h *history) reset() { h.n = 0 }

// summary describes one feature over a span of windows.
type summary struct {
	mean, variance float64
	n              int
	// slope is the least-squares trend per ns, zero unless it is
	// significant; mid is the mean event time it is anchored at.
	slope, mid float64
}

// summarize describes feature id over the windows with from < t <= to;
// NaN values are skipped. With no windows the mean is NaN and n is 0.
func (h *history) summarize(id features.ID, from, to uint64) summary {
	var sx, sy, sxx, sxy, syy float64
	n := 0
	for k := 0; k < h.n; k++ {
		e := &h.ring[(h.head-1-k+2*len(h.ring))%len(h.ring)]
		if e.t <= from {
			break
		}
		y := e.v[id]
		if e.t > to || math.IsNaN(y) {
			continue
		}
		x := float64(e.t - from)
		n++
		sx, sy = sx+x, sy+y
		sxx, sxy, syy = sxx+x*x, sxy+x*y, syy+y*y
	}
	if n == 0 {
		return summary{mean: math.NaN(), variance: math.NaN()}
	}
	fn := float64(n)
	s := summary{mean: sy / fn, n: n, mid: float64(from) + sx/fn}
	if n > 1 {
		s.variance = max(0, (syy-sy*sy/fn)/(fn-1))
		// The slope counts only if it is significant (|b| ≥ 2 standard
		// errors): otherwise noise would be read as drift.
		cxx, cxy := sxx-sx*sx/fn, sxy-sx*sy/fn
		if cxx > 0 && n > 2 {
			b := cxy / cxx
			resid := math.Max(0, (syy-sy*sy/fn)-b*cxy) / (fn - 2)
			if math.Abs(b) >= 2*math.Sqrt(resid/cxx) {
				s.slope = b
			}
		}
	}
	return s
}
