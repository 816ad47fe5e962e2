package tune

import (
	"math"

	"github.com/ainka/ainka/stages/features"
)

// Regimes are clusters of a few coarse features of the whole host, chosen
// to describe the workload rather than the tuners' own effect on it: CPU
// busy share, block IOPS (log scale) and how sequential the busiest
// device is. A window farther than regimeRadius from every known centre
// starts a new regime; a change of regime needs regimeHold windows in a
// row, so a single odd window does not switch.
const (
	MaxRegimes   = 16
	regimeDims   = 3
	regimeRadius = 0.3
	regimeHold   = 3
	regimeAlpha  = 0.05
)

type regimeCentre struct {
	ID     uint32
	C      [regimeDims]float64
	Seen   uint64 // windows assigned
	LastNs uint64
}

type regimes struct {
	list   []regimeCentre // at most MaxRegimes
	nextID uint32
	cur    uint32 // 0 = none yet
	// the candidate regime (0 = a new one) and the event time of the
	// first window of its streak
	cand      uint32
	candN     int
	candStart uint64
	candX     [regimeDims]float64
}

// regimeX is the window's point in regime space.
func regimeX(v *features.Vector) [regimeDims]float64 {
	var x [regimeDims]float64
	// CPU busy counts half: what other work does to the host's CPU
	// (builds, cron jobs) swings it by tens of percent from one second to
	// the next, and a regime that flips on it ends every trial.
	x[0] = clamp01(v.Values[features.CPUBusyPct]/100) / 2
	iops := v.Values[features.BlkIOPS]
	if math.IsNaN(iops) {
		iops = 0
	}
	// Whether the host does block I/O, and roughly how much: log10 over
	// 8 decades, so that the tenfold swing of IOPS a readahead step
	// itself causes (bigger requests, fewer of them) moves a window by
	// 0.12, well inside regimeRadius; idle vs busy still differs by 0.4.
	x[1] = clamp01(math.Log10(1+iops) / 8)
	// The busiest device's sequential share in this window, faded out
	// below 50 IOPS. The raw window, not the entities' moving average: a
	// phase that returns is recognised regimeHold windows after it does.
	top := -1
	for i := 0; i < v.NumDevices; i++ {
		if top < 0 || v.Devices[i].IOPS > v.Devices[top].IOPS {
			top = i
		}
	}
	if top >= 0 {
		d := &v.Devices[top]
		x[2] = clamp01(d.SeqRatio) * clamp01(d.IOPS/50)
	}
	return x
}

func dist(a, b [regimeDims]float64) float64 {
	s := 0.0
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}

// nearest returns the index of the closest centre within the radius, or -1.
func (r *regimes) nearest(x [regimeDims]float64) int {
	best, bestD := -1, regimeRadius
	for i := range r.list {
		if d := dist(x, r.list[i].C); d <= bestD {
			best, bestD = i, d
		}
	}
	return best
}

// observe assigns the window at x and reports a change of regime: the new
// regime, whether it was known before, and when its streak began.
func (r *regimes) observe(x [regimeDims]float64, now uint64) (changed, returned bool, since uint64) {
	i := r.nearest(x)
	id := uint32(0)
	if i >= 0 {
		id = r.list[i].ID
	}
	if id != 0 && id == r.cur {
		r.candN = 0
		c := &r.list[i]
		for k := range c.C {
			c.C[k] += regimeAlpha * (x[k] - c.C[k])
		}
		c.Seen++
		c.LastNs = now
		return false, false, 0
	}
	if r.candN == 0 || id != r.cand || (id == 0 && dist(x, r.candX) > regimeRadius) {
		r.cand, r.candN, r.candStart, r.candX = id, 0, now, x
	}
	r.candN++
	if r.candN < regimeHold {
		return false, false, 0
	}
	r.candN = 0
	if id == 0 {
		id = r.add(r.candX, now)
	} else {
		r.list[i].LastNs = now
	}
	r.cur = id
	return true, r.cand != 0, r.candStart
}

// add makes a new regime, replacing the least recently seen when full.
func (r *regimes) add(x [regimeDims]float64, now uint64) uint32 {
	r.nextID++
	c := regimeCentre{ID: r.nextID, C: x, Seen: 1, LastNs: now}
	if len(r.list) < MaxRegimes {
		r.list = append(r.list, c)
		return c.ID
	}
	old := 0
	for i := range r.list {
		if r.list[i].LastNs < r.list[old].LastNs {
			old = i
		}
	}
	r.list[old] = c
	return c.ID
}
