package alarm

import (
	"errors"
	"fmt"
	"math"

	"github.com/ainka/ainka/stages/features"
)

// MaxSmooth bounds Params.Smooth (the ring of recent values per feature).
const MaxSmooth = 32

// MaxSpan bounds Params.Span.
const MaxSpan = 1000

// MaxDrivers is how many driving features one window names.
const MaxDrivers = 3

// Levels of the output: at Enter a feature's persistent deviation is a
// new record by Factor (the alarm); below it the level is at most Below.
const (
	Enter = 0.8
	Below = 0.5
)

// ErrParams reports an invalid parameter; the message names it.
var ErrParams = errors.New("invalid alarm parameters")

// Params are the alarm's settings.
type Params struct {
	// Smooth is how many windows are averaged before comparing with the
	// baseline: the persistence a deviation needs.
	Smooth int
	// Factor: a persistent deviation alarms when it exceeds Factor times
	// the largest one the feature showed before (its decaying record).
	Factor float64
	// Decay is the record's decay per window (forgetting old incidents).
	Decay float64
	// MinZ is the least deviation, in robust sd, that may alarm at all.
	MinZ float64
	// Floor is the least noise scale, relative to the baseline's level:
	// a feature pinned at one value (cpu_busy_pct at 100) would otherwise
	// have no noise and alarm on a 0.1% wobble.
	Floor float64
	// Alpha is the baseline's learning rate (after 1/n at the start).
	Alpha float64
	// Warmup windows learn without alarming.
	Warmup int
	// OneSided: only a deviation in a feature's harmful direction alarms
	// (more of it, or less for mem_available_mb; see harm).
	OneSided bool
	// Dense: a feature alarms only when all Smooth windows of its average
	// have a value.
	Dense bool
	// Median: the persistent level is the median of the Smooth windows,
	// not their mean. A fault lasts through most of them; a burst of one
	// or two windows (a sampled counter's lone sample: 1 in 512 syscalls
	// is 0 or 5120/s, nothing between) moves a mean by its size over
	// Smooth but a median not at all.
	Median bool
	// Hold: a feature alarms only after its persistent deviation has
	// exceeded its record for Hold windows in a row (1: at once).
	Hold int
	// Sustained: the persistent deviation is the one every window of the
	// last Smooth reached (the smallest of their deviations, 0 when they
	// lie on both sides of the baseline or one is missing), not their
	// average. A burst of a few windows, however large, does not move it;
	// a fault that lasts Smooth windows does, by its whole size. The
	// record then learns sustained deviations only, which on clean
	// windows are small.
	Sustained bool
	// Quick (0: off) is a second, faster path of the sustained rule: a
	// deviation that every one of the last Quick windows (< Smooth)
	// reached alarms when it exceeds QuickFactor times the same record.
	// A large, abrupt fault is flagged before it has lasted Smooth
	// windows; a burst shorter than Quick windows still is not.
	Quick       int
	QuickFactor float64
	// PSIFloor (0: off) is the least noise scale of the PSI stall shares,
	// in percentage points, and with it a record of at least one such
	// unit: a stall share that was 0 in every earlier window has no
	// noise scale of its own, yet a share of several % is pressure
	// whatever the history (0 means healthy).
	PSIFloor float64
	// Smoothed (bit i: features.ID i) are features whose values are
	// first averaged, exponentially over about Span windows, and then
	// judged like any other. A sampled counter (1 in 512 syscalls, with
	// the kernel's adaptive sampling on top) arrives as lone heavy
	// samples: a storm of them leaves empty windows between them, so
	// the sustained rule's minimum never moves; their average moves for
	// as long as the storm lasts.
	Smoothed uint64
	Span     int
}

// DefaultParams are the settings chosen across recordings
// (docs/predict.md, "Ten clean minutes", "A quick path" and "Sampled
// counters"): a deviation in the harmful direction that lasted 8
// windows (0.8 s), 3 times its record, which decays slowly (half-life
// about 12 minutes of 100 ms windows), or one that lasted 4 windows, 6
// times its record; the sampled syscall error count averaged over about
// 10 windows first.
func DefaultParams() Params {
	return Params{Smooth: 8, Factor: 3, Decay: 0.9999, MinZ: 3, Floor: 0, Alpha: 0.003, Warmup: 300, OneSided: true, Dense: true, Hold: 1, Sustained: true, Quick: 4, QuickFactor: 6,
		Smoothed: 1 << features.SyscallErrorsPerS, Span: 10}
}

// MeanParams are the earlier default, chosen on one recording (R1): the
// mean of 5 windows, 1.5 times a faster-decaying record, both
// directions. It catches bursts the sustained rule ignores, and alarms
// far more often on clean windows.
func MeanParams() Params {
	return Params{Smooth: 5, Factor: 1.5, Decay: 0.9995, MinZ: 3, Floor: 0, Alpha: 0.01, Warmup: 300, OneSided: false, Dense: true, Hold: 1}
}

// Validate names the first bad parameter.
func (p Params) Validate() error {
	switch {
	case p.Smooth < 1 || p.Smooth > MaxSmooth:
		return fmt.Errorf("%w: smooth %d not in [1,%d]", ErrParams, p.Smooth, MaxSmooth)
	case !(p.Factor >= 1):
		return fmt.Errorf("%w: factor %v < 1", ErrParams, p.Factor)
	case !(p.Decay > 0 && p.Decay <= 1):
		return fmt.Errorf("%w: decay %v not in (0,1]", ErrParams, p.Decay)
	case !(p.MinZ >= 0), !(p.Floor >= 0), math.IsInf(p.MinZ, 0), math.IsInf(p.Floor, 0):
		return fmt.Errorf("%w: min_z %v and floor %v must be finite and >= 0", ErrParams, p.MinZ, p.Floor)
	case !(p.Alpha > 0 && p.Alpha <= 1):
		return fmt.Errorf("%w: alpha %v not in (0,1]", ErrParams, p.Alpha)
	case p.Warmup < 0:
		return fmt.Errorf("%w: warmup %d < 0", ErrParams, p.Warmup)
	case p.Hold < 1 || p.Hold > MaxSmooth:
		return fmt.Errorf("%w: hold %d not in [1,%d]", ErrParams, p.Hold, MaxSmooth)
	case p.Quick != 0 && (!p.Sustained || p.Quick < 1 || p.Quick >= p.Smooth || !(p.QuickFactor >= p.Factor) || math.IsInf(p.QuickFactor, 0)):
		return fmt.Errorf("%w: quick %d (factor %v) needs the sustained rule, 1 <= quick < smooth %d and a finite quick factor >= factor %v", ErrParams, p.Quick, p.QuickFactor, p.Smooth, p.Factor)
	case !(p.PSIFloor >= 0) || math.IsInf(p.PSIFloor, 0):
		return fmt.Errorf("%w: psi floor %v must be finite and >= 0", ErrParams, p.PSIFloor)
	case p.Smoothed>>features.Count != 0, p.Smoothed != 0 && (p.Span < 1 || p.Span > MaxSpan):
		return fmt.Errorf("%w: smoothed set %#x (span %d) needs features below %d and a span in [1,%d]", ErrParams, p.Smoothed, p.Span, features.Count, MaxSpan)
	}
	return nil
}

// Series is one feature's state.
type Series struct {
	Mean, Dev float64 // robust baseline: EW mean and EW mean absolute deviation
	Record    float64 // decaying maximum of the persistent deviation
	Seen      int64
	Ring      [MaxSmooth]float64
	Sum       float64
	// Lag holds the last Smooth deviations: the record learns each one
	// Smooth windows late, so that a deviation rising through the
	// average (Smooth windows) is judged against the record from before
	// it, not against its own last window.
	Lag [MaxSmooth]float64
	// Gap marks the ring's missing values; Gaps counts them.
	Gap  [MaxSmooth]bool
	Gaps int64
}

// State is what the alarm has learned (fixed size: persisted in model
// files with encoding/binary).
type State struct {
	S       [features.Count]Series
	Windows int64
}

// harm is each feature's harmful direction: +1 when more of it is worse
// (rates, latencies, pressure, errors), -1 when less is.
var harm = func() (h [features.Count]float64) {
	for i := range h {
		h[i] = 1
	}
	h[features.MemAvailableMB] = -1
	return h
}()

// psi marks the PSI stall shares (Params.PSIFloor).
var psi = func() (m [features.Count]bool) {
	for _, id := range []features.ID{features.PSIMemSomePct, features.PSIMemFullPct} {
		m[id] = true
	}
	return m
}()

// Host is the alarm over one feature vector per window. The zero value
// is not ready: call Init. Update is O(features) and allocation-free.
type Host struct {
	p      Params
	S      State
	frozen bool
	ratio  [features.Count]float64
	// run counts each feature's windows in a row at a ratio ≥ 1 (for
	// Hold; not persisted: a restart costs at most Hold windows).
	run [features.Count]int32
}

// Result is one window's outcome.
type Result struct {
	// Level: 0..Below while no feature alarms (Below × the closest
	// feature's share of the way to its alarm); Enter..1 while one does
	// (Enter at a record by Factor, 0.95 at four times that).
	Level float64
	// Drivers are the alarming features, strongest first (NDrivers of
	// them); when none alarms, the one closest to alarming (if any moved).
	Drivers  [MaxDrivers]features.ID
	NDrivers int
	// Joint is the root-sum-square of the JointTop largest lasting
	// deviations (over Smooth windows), each in units of its feature's
	// alarm point (Factor × its record, at least MinZ): 1 is one
	// feature at its alarm point, or a few part of the way there
	// together. 0 in the warm-up. Unlike Level it is on a ratio scale,
	// and it grows with each feature a fault moves; only the largest few
	// count, or a cycle that every feature follows (load through the
	// day) would add up 26 normal deviations.
	Joint float64
}

// maxNorm bounds one feature's share of Result.Joint: a feature whose
// noise scale is still about 0 (a counter idle since the warm-up) would
// otherwise put 1e15 into it.
const maxNorm = 100

// JointTop is how many features' deviations make Result.Joint.
const JointTop = 3

// Init sets the parameters and forgets everything.
func (h *Host) Init(p Params) {
	*h = Host{p: p}
}

// Freeze stops (or resumes) learning: baselines and records stay as they
// are, windows are still judged against them.
func (h *Host) Freeze(f bool) { h.frozen = f }

// Params returns the parameters.
func (h *Host) Params() Params { return h.p }

// Update learns one window's values (NaN and ±Inf: missing, learned from
// not at all) and returns the alarm.
func (h *Host) Update(x *[features.Count]float64) Result {
	p := &h.p
	slot := int(h.S.Windows % int64(p.Smooth))
	armed := h.S.Windows >= int64(p.Warmup)
	h.S.Windows++
	best := 0.0
	var top [JointTop]float64 // largest first
	for i := range x {
		sign := 0.0
		if p.OneSided {
			sign = harm[i]
		}
		floor := 0.0
		if psi[i] {
			floor = p.PSIFloor
		}
		v := x[i]
		if p.Smoothed&(1<<i) != 0 {
			v = h.S.S[i].smooth(v, slot, p)
		}
		var norm float64
		h.ratio[i], norm = h.S.S[i].update(v, slot, sign, floor, p, !h.frozen)
		if !armed {
			h.ratio[i], norm = 0, 0
		}
		h.ratio[i] = h.hold(i, h.ratio[i])
		best = math.Max(best, h.ratio[i])
		for k := range top {
			if norm > top[k] {
				top[k], norm = norm, top[k]
			}
		}
	}
	r := h.result(best)
	for _, n := range top {
		r.Joint += n * n
	}
	r.Joint = math.Sqrt(r.Joint)
	return r
}

// smooth is a Params.Smoothed feature's average after x: the ring's
// previous value is the previous average (or the baseline after a
// missing window), so the average needs no state of its own and a saved
// model resumes it exactly. A missing x stays missing.
func (s *Series) smooth(x float64, slot int, p *Params) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || s.Seen == 0 {
		return x
	}
	prev := s.Ring[(slot+p.Smooth-1)%p.Smooth]
	return prev + (x-prev)/float64(p.Span)
}

// hold keeps a feature's ratio under 1 until it has been ≥ 1 for Hold
// windows in a row (the closest-feature level still shows it rising).
func (h *Host) hold(i int, ratio float64) float64 {
	if ratio < 1 {
		h.run[i] = 0
		return ratio
	}
	h.run[i]++
	if int(h.run[i]) < h.p.Hold {
		return 0.99
	}
	return ratio
}

// update is one feature's window: the ratio of its persistent deviation
// to Factor × its record (≥ 1 alarms; 0 when it may not alarm), and the
// deviation in units of its alarm point (Result.Joint's term), both
// measured against the baseline before x is learned.
func (s *Series) update(x float64, slot int, sign, floor float64, p *Params, learn bool) (ratio, norm float64) {
	missing := math.IsNaN(x) || math.IsInf(x, 0)
	switch {
	case missing && s.Seen == 0, !learn && s.Seen == 0:
		return 0, 0
	case missing:
		x = s.Mean // the ring holds the baseline (neutral); nothing is learned
	case s.Seen == 0:
		s.Mean = x
		for k := range s.Ring[:p.Smooth] {
			s.Ring[k] = x
		}
		s.Sum = x * float64(p.Smooth)
		s.Seen = 1
		return 0, 0
	}
	s.Sum += x - s.Ring[slot]
	s.Ring[slot] = x
	if s.Gap[slot] {
		s.Gaps--
	}
	if s.Gap[slot] = missing; missing {
		s.Gaps++
	}
	sd := math.Max(s.scale(p), floor)
	var z, quick float64
	if p.Sustained {
		z, quick = s.sustained(slot, p, sd, sign)
	} else {
		z = s.dev((s.level(p)-s.Mean)/sd, sign)
	}
	if s.Seen > int64(p.Smooth) {
		ratio, norm = s.judge(z, quick, floor, p)
		// The record learns every deviation, alarming ones too (a record
		// kept from learning them, so that a lasting fault would stay in
		// alarm, made the alarm fire 37 to 40 times in 2.5 clean minutes
		// of testdata/faults), Smooth windows late.
		if learn {
			s.Record = math.Max(s.Record*p.Decay, s.Lag[slot])
			s.Lag[slot] = z
		}
	}
	if !missing && learn {
		s.learn(x, sd, p)
	}
	return ratio, norm
}

// judge is the ratio of the persistent deviation z to its alarm point
// (0 when it may not alarm), or of the quick path's deviation to its
// own when that is higher; and the persistent deviation in units of its
// alarm point (at least MinZ), at most maxNorm. The quick path's shorter
// deviation is left out of that: on the quiet-host fault recording it
// raised the joint score's clean 99th percentile from 0.46 to 0.69 and
// left one fault fewer at twice it (docs/predict.md).
func (s *Series) judge(z, quick, floor float64, p *Params) (ratio, norm float64) {
	record := s.Record
	if floor > 0 {
		record = math.Max(record, 1) // a floored scale: at least one unit
	}
	// A feature that has never deviated (an idle interface) has no
	// noise scale yet: its first activity teaches it one, it does not
	// alarm (that would be every first packet). Dense: a feature with a
	// gap in its average (a latency quantile of a window without
	// samples) is one or two real values, not a lasting deviation.
	if record <= 0 || (p.Dense && s.Gaps > 0) {
		return 0, 0
	}
	// The alarm point is Factor × the record, and at least MinZ: norm
	// is the deviation in its units.
	norm = math.Max(z, 0) / math.Max(p.Factor*record, p.MinZ)
	if z > p.MinZ {
		ratio = z / (p.Factor * record)
	}
	if p.Quick > 0 && quick > p.MinZ {
		ratio = math.Max(ratio, quick/(p.QuickFactor*record))
	}
	return ratio, math.Min(norm, maxNorm)
}

// dev is a deviation in the direction that may alarm.
func (s *Series) dev(z, sign float64) float64 {
	if sign == 0 {
		return math.Abs(z)
	}
	return z * sign
}

// sustained is the deviation (in noise units, in the direction that may
// alarm) that every one of the last Smooth windows reached, and the one
// every one of the last Quick reached (0 without the quick path); a
// missing window holds the baseline, so it is 0 then. One pass over the
// ring, newest first.
func (s *Series) sustained(slot int, p *Params, sd, sign float64) (all, quick float64) {
	lo, hi := s.Ring[slot], s.Ring[slot]
	qlo, qhi := lo, hi
	for k, i := 1, slot; k < p.Smooth; k++ {
		if k == p.Quick {
			qlo, qhi = lo, hi
		}
		if i--; i < 0 {
			i = p.Smooth - 1
		}
		if v := s.Ring[i]; v < lo {
			lo = v
		} else if v > hi {
			hi = v
		}
	}
	all = s.oneWay(lo, hi, sd, sign)
	if p.Quick > 0 {
		quick = s.oneWay(qlo, qhi, sd, sign)
	}
	return all, quick
}

// oneWay is the deviation of a range of values [lo, hi] from the
// baseline, in noise units, in the direction that may alarm: 0 when the
// range straddles the baseline.
func (s *Series) oneWay(lo, hi, sd, sign float64) float64 {
	lo, hi = (lo-s.Mean)/sd, (hi-s.Mean)/sd
	switch {
	case sign > 0 || (sign == 0 && lo > 0):
		return lo
	case sign < 0 || (sign == 0 && hi < 0):
		return -hi
	}
	return 0
}

// level is the persistent level: the mean, or the median, of the ring's
// Smooth values (missing ones hold the baseline). The median sorts a copy
// on the stack: no allocation, at most MaxSmooth² / 2 comparisons.
func (s *Series) level(p *Params) float64 {
	if !p.Median {
		return s.Sum / float64(p.Smooth)
	}
	var v [MaxSmooth]float64
	n := copy(v[:p.Smooth], s.Ring[:p.Smooth])
	for i := 1; i < n; i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// scale is the noise scale: robust sd, at least Floor of the level.
func (s *Series) scale(p *Params) float64 {
	return 1.2533*s.Dev + p.Floor*math.Abs(s.Mean) + 1e-9
}

// learn moves the baseline towards x, at most 10 sd: one absurd value
// must not carry the baseline away (a level shift is still learned, the
// deviation and with it the bound widening each step).
func (s *Series) learn(x, sd float64, p *Params) {
	d := x - s.Mean
	if s.Seen > int64(p.Smooth) {
		d = math.Max(-10*sd, math.Min(10*sd, d))
	}
	s.Seen++
	w := math.Max(p.Alpha, 1/float64(s.Seen))
	s.Mean += w * d
	s.Dev += w * (math.Abs(d) - s.Dev)
}

// result turns the best ratio into a level and names the drivers.
func (h *Host) result(best float64) Result {
	var r Result
	switch {
	case best >= 1:
		r.Level = Enter + (1-Enter)*(1-1/best)
	default:
		r.Level = Below * best
	}
	// Drivers: features at ≥ 1 when alarming, else the best one. A
	// selection over a fixed array: no allocation.
	for n := 0; n < MaxDrivers; n++ {
		k, kr := -1, 0.0
		for i, v := range h.ratio {
			if v > kr && !r.has(features.ID(i)) {
				k, kr = i, v
			}
		}
		if k < 0 || (best >= 1 && kr < 1) || (best < 1 && n > 0) {
			break
		}
		r.Drivers[n] = features.ID(k)
		r.NDrivers++
	}
	return r
}

func (r *Result) has(id features.ID) bool {
	for _, d := range r.Drivers[:r.NDrivers] {
		if d == id {
			return true
		}
	}
	return false
}

// Names lists the drivers' names (for messages; allocates).
func (r *Result) Names() []string {
	out := make([]string, 0, r.NDrivers)
	for _, d := range r.Drivers[:r.NDrivers] {
		out = append(out, d.String())
	}
	return out
}
