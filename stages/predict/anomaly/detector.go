package anomaly

import (
	"math"
	"time"
)

// maxShort bounds the likelihood's short averaging window so that the ring
// buffer is a fixed array (no allocation, constant memory).
const maxShort = 64

// scale is one exponentially weighted baseline with its mean absolute
// deviation.
type scale struct {
	Mean, MAD float64
}

// z returns |x-mean| in robust standard deviations (MAD*1.2533 is sigma
// for Gaussian noise) and, when a > 0, updates the baseline with weight a.
// It learns xl, which is x unless x is an outlier (Params.Clip).
func (s *scale) z(x, xl, a, floor float64) float64 {
	z := math.Abs(x-s.Mean) / (s.MAD*1.2533 + floor)
	e := xl - s.Mean
	s.Mean += a * e
	s.MAD += a * (math.Abs(e) - s.MAD)
	return z
}

// likelihood turns a raw score stream into Numenta's log-likelihood score:
// the tail probability of the recent mean raw score under the long-run
// (normal) distribution of that mean.
type likelihood struct {
	Ring      [maxShort]float64
	Pos, Fill int32
	Sum       float64
	// Mean, Var: the long-run distribution being learned; UseMean,
	// UseVar: the one scored against (equal unless deferred).
	Mean, Var       float64
	UseMean, UseVar float64
	Count           int64
}

func (l *likelihood) update(raw float64, short int32, a float64, learn, deferred bool) float64 {
	if l.Fill == short {
		l.Sum -= l.Ring[l.Pos]
	} else {
		l.Fill++
	}
	l.Ring[l.Pos] = raw
	l.Sum += raw
	l.Pos++
	if l.Pos == short {
		l.Pos = 0
	}
	m := l.Sum / float64(l.Fill)
	if !deferred {
		l.UseMean, l.UseVar = l.Mean, l.Var
	}
	// Lower bounds as in Numenta's estimateNormal: a near-constant raw
	// score must not make every wobble look impossible.
	mean := math.Max(l.UseMean, 0.03)
	sd := math.Sqrt(math.Max(l.UseVar, 0.0003))
	tail := 1.0
	if l.Count > 0 && m > mean {
		tail = 0.5 * math.Erfc((m-mean)/sd/math.Sqrt2)
	}
	if learn {
		if l.Count == 0 {
			l.Mean = m
		}
		l.Count++
		w := math.Max(a, 1/float64(l.Count))
		d := m - l.Mean
		l.Mean += w * d
		l.Var = (1 - w) * (l.Var + w*d*d)
	}
	if tail >= 1 {
		return 0 // the usual case, without the logarithm
	}
	// log(tail)/log(1e-10): a tail of 1e-5 scores 0.5, 1e-10 scores 1.
	return math.Max(0, math.Min(1, math.Log(tail+1e-10)/math.Log(1e-10)))
}

func (l *likelihood) commit() { l.UseMean, l.UseVar = l.Mean, l.Var }

// State is everything a detector learns, in fixed-size fields so that it
// can be persisted with encoding/binary.
type State struct {
	N                           int64
	Fast, Slow                  scale
	LikeFast, LikeSlow, LikeSeq likelihood
	LikeQuiet, LikeSeason       likelihood
	// Season is a baseline per time bucket (UpdateAt).
	Season      [Buckets]scale
	SeasonCount [Buckets]int64
	Seq         sequence
	Min, Max    float64
	LastHigh    int64
	// ZMax is the decaying maximum of the fast deviations seen so far,
	// ZSeasonMax that of the deviations from the time-of-week baseline.
	ZMax, ZSeasonMax float64
}

// Detector scores one series. The zero value is not usable: call New or
// Init.
type Detector struct {
	p      Params
	frozen bool
	// skipped counts the NaN and ±Inf values passed to UpdateAt.
	skipped int64
	// fatigue is the decaying count of recent likelihood alarms
	// (Params.Fatigue). It is not in State: only a gated detector
	// (`ainka detect`, NAB) uses it, and those are never saved; the
	// stage's detectors are graded (Validate: fatigue needs the gate).
	fatigue float64
	S       State
	// Parts are the last update's component scores, for diagnosis:
	// fast likelihood, slow likelihood, sequence likelihood, spatial (0/1),
	// fast raw, sequence raw.
	Parts [6]float64
}

// New returns a detector; p must be valid.
func New(p Params) (*Detector, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	d := &Detector{}
	d.Init(p)
	return d, nil
}

// Init resets d to an untrained detector with parameters p (for detectors
// kept by value in arrays). p is assumed valid.
func (d *Detector) Init(p Params) {
	*d = Detector{p: p}
	d.Reset()
}

// Reset forgets everything learned, keeping the parameters.
func (d *Detector) Reset() {
	d.S = State{LastHigh: math.MinInt64 / 2}
	d.fatigue = 0
}

// Skipped is the number of NaN and ±Inf values passed since Init: each
// was scored NaN and taught the detector nothing.
func (d *Detector) Skipped() int64 { return d.skipped }

// Params returns the detector's parameters.
func (d *Detector) Params() Params { return d.p }

// SetAlpha changes the fast learning rate (the stage's learning_rate).
func (d *Detector) SetAlpha(a float64) { d.p.Alpha = a }

// Freeze stops (true) or resumes (false) learning: while frozen, samples
// are scored against the model as it is and only the short-term context
// (the recent raw scores, the last two bins, the rest period) moves on.
func (d *Detector) Freeze(f bool) { d.frozen = f }

// Commit makes the long-run distributions learned so far the ones scored
// against (only matters with Params.Deferred).
func (d *Detector) Commit() {
	d.S.LikeFast.commit()
	d.S.LikeSlow.commit()
	d.S.LikeSeq.commit()
	d.S.LikeQuiet.commit()
	d.S.LikeSeason.commit()
}

// Buckets is the number of time buckets of the seasonal baseline: the 48
// half hours of a weekday and the 48 of a weekend day.
const Buckets = 96

// Bucket returns the time bucket of a sample's timestamp (read from its own
// clock fields, without time-zone conversion).
func Bucket(t time.Time) int32 {
	h, m, _ := t.Clock()
	b := int32((h*60 + m) / 30)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		b += 48
	}
	return b
}

// Score is UpdateAt with the bucket of t (a series with wall-clock
// timestamps, such as `ainka detect`'s CSV rows).
func (d *Detector) Score(x float64, t time.Time) float64 { return d.UpdateAt(x, Bucket(t)) }

// Gap tells the detector that time jumped before the next value (a
// collector that was down): the sequence model starts a new context
// instead of learning a transition across the gap.
func (d *Detector) Gap() { d.S.Seq.Seen = 0 }

// Update scores x and learns from it (no time-of-day context).
func (d *Detector) Update(x float64) float64 { return d.UpdateAt(x, -1) }

// UpdateAt scores x and learns from it. bucket is x's time bucket (see
// Bucket), or -1 when the series has no wall-clock time; with it, the
// detector also compares x with what is usual at that time of day and kind
// of day, as Numenta's HTM detector does with its time-of-day and weekend
// encodings. NaN or Inf (missing) returns NaN, is counted (Skipped) and
// leaves the model untouched.
func (d *Detector) UpdateAt(x float64, bucket int32) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		d.skipped++
		return math.NaN()
	}
	s := &d.S
	learn := !d.frozen
	if s.N == 0 {
		if !learn {
			return 0
		}
		s.Fast = scale{Mean: x}
		s.Slow = scale{Mean: x}
		s.Min, s.Max = x, x
		s.N = 1
		return 0
	}
	s.N++
	// A floor on the deviation keeps a flat line from dividing by zero
	// while still making any change on it surprising.
	floor := 1e-9 * (1 + math.Abs(s.Fast.Mean))
	fa, sa := d.p.Alpha, d.p.SlowAlpha
	// Until the baselines have seen 1/alpha samples, average plainly so
	// that the first samples do not dominate.
	if f := 1 / float64(s.N); f > fa {
		fa = f
	}
	if f := 1 / float64(s.N); f > sa && sa > 0 {
		sa = f
	}
	if !learn {
		fa, sa = 0, 0
	}
	short := int32(d.p.Short)
	// hard: a new record (spatial or deviation-record rule) fired.
	hard := false
	xl, outlier := d.learnable(x, floor)
	zf := s.Fast.z(x, xl, fa, floor)
	rawF := math.Erf(zf / math.Sqrt2 / 2)
	sf := s.LikeFast.update(rawF, short, d.p.LongAlpha, learn, d.p.Deferred)
	score := sf
	d.Parts = [6]float64{sf, 0, 0, 0, rawF, 0}
	if d.p.SlowAlpha > 0 {
		zs := s.Slow.z(x, xl, sa, floor)
		rawS := math.Erf(zs / math.Sqrt2 / 2)
		ss := s.LikeSlow.update(rawS, short, d.p.LongAlpha, learn, d.p.Deferred)
		score = math.Max(score, ss)
		d.Parts[1] = ss
	}
	if bucket >= 0 && bucket < Buckets && d.p.Season > 0 {
		ss, h := d.seasonal(x, xl, bucket, floor, learn, !outlier)
		score = math.Max(score, ss)
		hard = hard || h
	}
	if d.p.Quiet > 0 && d.p.SlowAlpha > 0 {
		raw := math.Max(0, 1-s.Fast.MAD/(d.p.Quiet*s.Slow.MAD+1e-12))
		sq := s.LikeQuiet.update(raw, short, d.p.LongAlpha, learn, d.p.Deferred)
		score = math.Max(score, sq)
	}
	if d.p.SeqDecay > 0 {
		score = math.Max(score, d.sequence(x, learn))
	}
	if d.newRecord(x, zf, learn && !outlier) {
		score = 1
		hard = true
		d.Parts[3] = 1
	}
	if learn && !outlier {
		s.Min = math.Min(s.Min, x)
		s.Max = math.Max(s.Max, x)
	}
	if s.N <= int64(d.p.Warmup) {
		return 0
	}
	return d.rest(score, hard)
}

// rest silences the detector for a while after a high score, so that one
// anomaly is reported once: Rest samples after any, RestSoft after one
// that broke no record; and with Fatigue, raises the level a likelihood
// must reach by Fatigue per recent likelihood alarm.
func (d *Detector) rest(score float64, hard bool) float64 {
	s := &d.S
	since := s.N - s.LastHigh
	if d.p.Fatigue > 0 {
		d.fatigue *= d.p.FatigueDecay
		if !hard {
			score -= d.p.Fatigue * d.fatigue
		}
	}
	if since <= int64(d.p.Rest) || (since <= int64(d.p.RestSoft) && !hard) {
		score = 0
	}
	alarm := score >= d.p.RestLevel
	if alarm {
		s.LastHigh = s.N
		if !hard {
			d.fatigue++
		}
	}
	if d.p.Gate > 0 {
		// A near alarm (RestLevel up to Gate) is reported as 0 but has
		// started a rest period: the same incident's likelihood rising
		// further is not a second alarm.
		if alarm && score >= d.p.Gate {
			return 1
		}
		return 0
	}
	return score
}

// sequence scores how unusual the transition into x's bin is.
func (d *Detector) sequence(x float64, learn bool) float64 {
	s := &d.S
	lo, hi := s.Min, s.Max
	if d.p.SeqRange > 0 && d.p.SlowAlpha > 0 {
		w := d.p.SeqRange * 1.2533 * s.Slow.MAD
		lo, hi = s.Slow.Mean-w, s.Slow.Mean+w
	}
	raw := s.Seq.update(bin(x, lo, hi), s.N, d.p.SeqDecay, learn)
	sq := s.LikeSeq.update(raw, int32(d.p.Short), d.p.LongAlpha, learn, d.p.Deferred)
	d.Parts[2], d.Parts[5] = sq, raw
	return sq
}

// seasonal scores x against what is usual in its time bucket. hard is
// true when x is a new record of seasonal deviation.
// record is false for an outlier, which must not enter the record.
func (d *Detector) seasonal(x, xl float64, bucket int32, floor float64, learn, record bool) (score float64, hard bool) {
	s := &d.S
	sc := &s.Season[bucket]
	w := d.p.Season
	if learn {
		s.SeasonCount[bucket]++
		w = math.Max(w, 1/float64(s.SeasonCount[bucket]))
	} else {
		w = 0
	}
	if s.SeasonCount[bucket] == 1 && learn {
		sc.Mean = xl
	}
	z := sc.z(x, xl, w, floor+0.1*s.Slow.MAD)
	raw := math.Erf(z / math.Sqrt2 / 2)
	if s.SeasonCount[bucket] < 3 {
		raw = 0
	}
	score = s.LikeSeason.update(raw, int32(d.p.Short), d.p.LongAlpha, learn, d.p.Deferred)
	if d.p.SeasonAfter > 0 && d.p.ZDecay > 0 && s.SeasonCount[bucket] >= 3 && s.N > int64(d.p.SeasonAfter) {
		if s.ZSeasonMax > 0 && z > s.ZSeasonMax*(1+d.p.ZTol) {
			score = 1
			hard = true
		}
		if learn && record {
			s.ZSeasonMax = math.Max(z, s.ZSeasonMax*d.p.ZDecay)
		}
	}
	return score, hard
}

// newRecord reports whether x breaks a record: outside the range seen so
// far by more than the spatial tolerance, or a deviation beyond the
// decaying maximum (Numenta's spatial and deviation-record rules).
func (d *Detector) newRecord(x, zf float64, learn bool) bool {
	s := &d.S
	hard := false
	if d.p.SpatialTol > 0 && s.Max > s.Min && s.N > int64(d.p.SpatialAfter) {
		tol := (s.Max - s.Min) * d.p.SpatialTol
		if (x > s.Max+tol || x < s.Min-tol) && zf >= d.p.SpatialZ {
			hard = true
		}
	}
	if d.p.ZDecay > 0 {
		if s.N > int64(d.p.SpatialAfter) && s.ZMax > 0 && zf > s.ZMax*(1+d.p.ZTol) {
			hard = true
		}
		if learn {
			s.ZMax = math.Max(zf, s.ZMax*d.p.ZDecay)
		}
	}
	return hard
}

// clipAfter is the number of samples before the range is trusted to
// define outliers (Params.Clip): the first values make the range.
const clipAfter = 10

// learnable returns the value the baselines learn for x and whether x is
// an outlier (Params.Clip): beyond the range seen so far by more than Clip
// times (range + fast robust sd), learned as if it lay at that distance.
func (d *Detector) learnable(x, floor float64) (float64, bool) {
	s := &d.S
	if d.p.Clip <= 0 || s.N <= clipAfter || !(s.Max > s.Min) {
		// Until the series has moved, its range says nothing of what is
		// far: a flat start followed by its first spike is not an outlier.
		return x, false
	}
	band := d.p.Clip * (s.Max - s.Min + s.Fast.MAD*1.2533 + floor)
	switch {
	case x > s.Max+band:
		return s.Max + band, true
	case x < s.Min-band:
		return s.Min - band, true
	}
	return x, false
}
