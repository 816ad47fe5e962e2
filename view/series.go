package view

import "math"

// histLen is how many seconds of event time a sparkline covers.
const histLen = 60

// series folds per-window values into one point per second of event time,
// by mean (values) or max (scores: a one-window spike must stay visible).
type series struct {
	pts  []float64 // closed seconds, oldest first, at most histLen
	sec  uint64    // the open second
	open bool
	acc  float64
	n    int
	max  bool
}

func (s *series) add(sec uint64, v float64) {
	if s.open && sec != s.sec {
		s.close()
	}
	s.sec, s.open = sec, true
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	switch {
	case s.n == 0:
		s.acc = v
	case s.max:
		s.acc = math.Max(s.acc, v)
	default:
		s.acc += v
	}
	s.n++
}

// value is the open second's aggregate, NaN when it has no finite value.
func (s *series) value() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	if s.max {
		return s.acc
	}
	return s.acc / float64(s.n)
}

func (s *series) close() {
	s.pts = append(s.pts, s.value())
	if len(s.pts) > histLen {
		s.pts = append(s.pts[:0], s.pts[len(s.pts)-histLen:]...)
	}
	s.acc, s.n, s.open = 0, 0, false
}

// points returns the closed seconds and the open one, oldest first.
func (s *series) points() []Num {
	out := make([]Num, 0, len(s.pts)+1)
	for _, v := range s.pts {
		out = append(out, Num(v))
	}
	if s.open {
		out = append(out, Num(s.value()))
	}
	if len(out) > histLen {
		out = out[len(out)-histLen:]
	}
	return out
}

func (s *series) reset() { *s = series{max: s.max} }

// maxOf is the largest finite point, NaN when there is none.
func maxOf(pts []Num) Num {
	m := math.NaN()
	for _, p := range pts {
		if p.Valid() && (math.IsNaN(m) || float64(p) > m) {
			m = float64(p)
		}
	}
	return Num(m)
}
