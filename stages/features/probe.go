package features

import (
	"math"

	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/aggregate"
)

// SetProbes makes the stage compute the features of the probe plugin
// kinds of set (nil: none) into Vector.Probe, in set.FeatureNames order.
func (x *Stage) SetProbes(set *spec.Set) { x.probes = set }

// Probes returns the probe plugin kinds the stage computes features of.
func (x *Stage) Probes() *spec.Set { return x.probes }

// ComputeProbes fills v.Probe from w for the kinds of set. A rate needs
// the window's length; a mean, quantile or share of a window without a
// record of the kind is NaN, like the built-in latency quantiles.
func ComputeProbes(set *spec.Set, w *aggregate.Window, v *Vector) {
	v.NumProbe, v.Probes = 0, set
	secs := float64(w.DurationNs()) / 1e9
	p := &w.Probe
	for _, k := range set.Kinds() {
		i := int(k.Kind) - spec.KindBase
		n := float64(p.Counts[i])
		for _, f := range k.Features {
			x := nan
			switch f.Op {
			case spec.OpCount:
				x = n
			case spec.OpRate:
				x = perSec(n, secs)
			case spec.OpSumRate:
				x = perSec(p.SumValue(i, &k.Fields[f.Field], f.Field), secs)
			case spec.OpMean:
				x = ratio(p.SumValue(i, &k.Fields[f.Field], f.Field), n)
			case spec.OpQuantile:
				x = p.Hists[f.Hist].Quantile(f.Q)
			case spec.OpDistinct:
				x, _ = keyStats(p, k.Kind)
			case spec.OpTopShare:
				_, top := keyStats(p, k.Kind)
				x = ratio(top, n)
			}
			v.Probe[v.NumProbe] = x * f.Scale
			v.NumProbe++
		}
	}
}

func perSec(x, secs float64) float64 {
	if secs <= 0 {
		return nan
	}
	return x / secs
}

func ratio(x, n float64) float64 {
	if n == 0 {
		return nan
	}
	return x / n
}

// keyStats returns the number of distinct key values of kind in the
// window and the weighted count of the most frequent one. Values past the
// window's key table are not told apart: distinct is then a lower bound.
func keyStats(p *aggregate.ProbeWindow, kind uint16) (distinct, top float64) {
	for j := 0; j < p.NumKeys; j++ {
		if q := &p.Keys[j]; q.Kind == kind {
			distinct++
			top = math.Max(top, float64(q.Count))
		}
	}
	return distinct, top
}
