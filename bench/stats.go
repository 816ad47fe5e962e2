package bench

import (
	"math"
	"sort"
)

// quantile returns the q-quantile (0..1) of sorted values, interpolated
// linearly between neighbours (the "type 7" estimator of R and numpy).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

// Summary is the median and interquartile range of a set of runs.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Q1     float64 `json:"q1"`
	Q3     float64 `json:"q3"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// IQR is Q3 − Q1.
func (s Summary) IQR() float64 { return s.Q3 - s.Q1 }

func summarize(vals []float64) Summary {
	v := append([]float64(nil), vals...)
	sort.Float64s(v)
	if len(v) == 0 {
		return Summary{}
	}
	return Summary{N: len(v), Median: quantile(v, 0.5), Q1: quantile(v, 0.25), Q3: quantile(v, 0.75), Min: v[0], Max: v[len(v)-1]}
}

// quantiles101 reduces a sample to its p0..p100 quantiles.
func quantiles101(sample []float64) []float64 {
	if len(sample) == 0 {
		return nil
	}
	v := append([]float64(nil), sample...)
	sort.Float64s(v)
	out := make([]float64, 101)
	for i := range out {
		out[i] = quantile(v, float64(i)/100)
	}
	return out
}

// gain is how many times better a is than base for the metric: > 1 is
// better whichever the metric's direction.
func gain(m MetricSpec, a, base float64) float64 {
	if m.LowerIsBetter {
		return base / a
	}
	return a / base
}
