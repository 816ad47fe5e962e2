package aggregate

import (
	"math"
	"math/bits"
)

// Log-linear histogram: values below 2*histSub are exact; above, every
// power of two is split into histSub linear sub-buckets (relative error
// ≤ 1/histSub/2 ≈ 3%). Values are clamped at 2^40 ns (18 minutes).
const (
	histSubBits = 4
	histSub     = 1 << histSubBits
	histMaxBits = 40
	// NumBuckets is the number of buckets of a Hist.
	NumBuckets = (histMaxBits-histSubBits)*histSub + histSub
)

// Hist is a fixed-size latency histogram in nanoseconds.
type Hist struct {
	Count   uint64
	SumNs   uint64
	MaxNs   uint64
	Buckets [NumBuckets]uint32
}

func bucketOf(v uint64) int {
	if v >= 1<<histMaxBits {
		return NumBuckets - 1
	}
	b := bits.Len64(v)
	if b <= histSubBits+1 {
		return int(v)
	}
	shift := b - (histSubBits + 1)
	return (shift+1)*histSub + int(v>>uint(shift))&(histSub-1)
}

// bucketRange returns the smallest value of bucket i and its width.
func bucketRange(i int) (lo, width uint64) {
	if i < 2*histSub {
		return uint64(i), 1
	}
	shift := uint(i/histSub - 1)
	return uint64(histSub+i%histSub) << shift, 1 << shift
}

// Add records one value.
func (h *Hist) Add(v uint64) { h.AddN(v, 1) }

// AddN records n occurrences of one value (a record of weight n).
func (h *Hist) AddN(v, n uint64) {
	h.Count += n
	h.SumNs += v * n
	if v > h.MaxNs {
		h.MaxNs = v
	}
	h.Buckets[bucketOf(v)] += uint32(n)
}

// Quantile returns the q-quantile (0..1) in nanoseconds, the middle of the
// bucket that holds it (never above the maximum seen), or NaN if empty.
func (h *Hist) Quantile(q float64) float64 {
	if h.Count == 0 {
		return math.NaN()
	}
	rank := uint64(math.Ceil(q * float64(h.Count)))
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i := range h.Buckets {
		cum += uint64(h.Buckets[i])
		if cum >= rank {
			lo, w := bucketRange(i)
			v := float64(lo) + float64(w-1)/2
			return math.Min(v, float64(h.MaxNs))
		}
	}
	return float64(h.MaxNs)
}

// Mean returns the mean in nanoseconds, NaN if empty.
func (h *Hist) Mean() float64 {
	if h.Count == 0 {
		return math.NaN()
	}
	return float64(h.SumNs) / float64(h.Count)
}

// Reset empties the histogram.
func (h *Hist) Reset() { *h = Hist{} }
