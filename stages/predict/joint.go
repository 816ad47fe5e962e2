package predict

import (
	"math"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict/anomaly"
)

// The cluster model's surprise (a detector score in [0, 1]) enters the
// joint score from clusterFrom, and counts as one alarm point at
// clusterAlarm: on the kernel-fault recordings its 99th percentile on
// clean windows is 0.24–0.33 (docs/predict.md), so it adds nothing there.
const (
	clusterFrom  = 0.5
	clusterAlarm = 0.65
)

// jointScore is the host's joint score: the root-sum-square of the host
// alarm's per-feature lasting deviations in units of their alarm points
// (alarm.Result.Joint) and of the cluster model's surprise in the same
// units. The first grows with every feature a fault moves, judged on the
// alarm's persistence and each feature's own record, so that a fault
// stands apart from clean windows by a ratio (issue 15: its maximum
// inside a fault at least twice its clean 99th percentile); the second
// catches a combination no feature shows alone (a broken correlation).
// NaN when no feature was present.
func jointScore(alarmJoint, cluster float64) float64 {
	if math.IsNaN(cluster) {
		return cluster
	}
	c := math.Max(0, cluster-clusterFrom) / (clusterAlarm - clusterFrom)
	return math.Sqrt(alarmJoint*alarmJoint + c*c)
}

// jointClip bounds, in robust sd, the deviation one value teaches a
// feature's joint baseline. A real level shift is still learned: each
// clipped step widens the deviation, and with it the bound, geometrically.
const jointClip = 100

// clusters is the number of streaming k-means centroids of the joint model.
const clusters = 8

// jointState is the cluster model: each feature is standardised by a
// slow baseline, the standardised vector is assigned to the nearest of up
// to `clusters` centroids (which follow their members, as in Netdata's
// k-means), and the distance to that centroid is the raw joint surprise.
type jointState struct {
	Mean, MAD [features.Count]float64
	Seen      [features.Count]int64
	Cent      [clusters][features.Count]float64
	Count     [clusters]float64
	Used      int64
}

type joint struct {
	S   jointState
	Det anomaly.Detector
}

// jointParams: the distance detector keeps the defaults except that the
// sequence model (meant for one series' shape) is off, the scores are
// graded (no Gate) and the soft rest is the stage's.
func jointParams(lr float64) anomaly.Params {
	p := anomaly.DefaultParams()
	p.Alpha = lr
	p.SeqDecay = 0
	p.Gate = 0 // graded scores for the view and the policies
	p.Fatigue = 0
	p.RestSoft = anomaly.StageParams().RestSoft
	return p
}

// update scores one vector; NaN when no feature is present.
func (j *joint) update(v *features.Vector, learn bool) float64 {
	s := &j.S
	var u [features.Count]float64
	present := 0
	for i, x := range v.Values {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		present++
		if s.Seen[i] == 0 {
			if learn {
				s.Mean[i] = x
				s.Seen[i] = 1
			}
			continue
		}
		d := x - s.Mean[i]
		sd := 1.2533*s.MAD[i] + 1e-9*(1+math.Abs(s.Mean[i]))
		u[i] = math.Max(-8, math.Min(8, d/sd))
		// Learn at most jointClip sd of deviation: one absurd value
		// (1e308) would otherwise blow the baseline up for good, and
		// x-mean may even overflow to Inf.
		d = math.Max(-jointClip*sd, math.Min(jointClip*sd, d))
		if learn {
			s.Seen[i]++
			w := math.Max(0.002, 1/float64(s.Seen[i]))
			s.Mean[i] += w * d
			s.MAD[i] += w * (math.Abs(d) - s.MAD[i])
		}
	}
	if present == 0 {
		return math.NaN()
	}
	best, bestD := -1, math.Inf(1)
	for c := 0; c < int(s.Used); c++ {
		var d float64
		for i := range u {
			e := u[i] - s.Cent[c][i]
			d += e * e
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	dist := 0.0
	if best >= 0 {
		dist = math.Sqrt(bestD / float64(present))
	}
	if learn {
		// A vector far from every centroid founds a new one while there is
		// room; otherwise the nearest centroid moves towards it.
		if s.Used < clusters && (best < 0 || dist > 1) {
			s.Cent[s.Used] = u
			s.Count[s.Used] = 1
			s.Used++
		} else {
			s.Count[best]++
			w := math.Max(1/s.Count[best], 0.001)
			for i := range u {
				s.Cent[best][i] += w * (u[i] - s.Cent[best][i])
			}
		}
	}
	return j.Det.Update(dist)
}
