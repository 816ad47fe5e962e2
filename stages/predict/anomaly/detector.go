package anomaly

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxShort bounds the likelihood's short averaging window so that the ring
// buffer is a fixed array (no allocation, constant memory).
const maxShort = 64

// Params are a detector's settings. The defaults (DefaultParams) were
// chosen on the NAB development data with one setting for every series;
// nothing is tuned per series and nothing looks at labels.
type Params struct {
	// Alpha is the weight of a new sample in the fast baseline and its
	// deviation (an EWMA: larger learns faster). The stage sets it from
	// learning_rate.
	Alpha float64
	// SlowAlpha is the same for the slow baseline (0 disables it).
	SlowAlpha float64
	// Short is the number of raw scores averaged before the likelihood.
	Short int
	// LongAlpha is the weight of a new short mean in the long-run
	// distribution the likelihood compares it with.
	LongAlpha float64
	// Warmup is the number of samples scored 0 while the models settle.
	Warmup int
	// Rest is the number of samples after a detection during which the
	// detector reports 0 (one alarm per incident).
	Rest int
	// RestSoft (> Rest) extends the rest period for the likelihood
	// scores: until RestSoft samples after a detection only the spatial
	// and deviation-record rules can raise another alarm. A likelihood
	// that stays high is the same incident; a new record is new evidence.
	RestSoft int
	// RestLevel is the output that counts as a detection for Rest.
	RestLevel float64
	// SpatialTol: a sample beyond the extremes seen so far by more than
	// this fraction of their range scores 1 (0 disables).
	SpatialTol float64
	// Quiet enables the stuck-signal score: the fast deviation collapsing
	// far below the slow one (a flat line where the series usually moves).
	Quiet float64
	// SpatialAfter is the number of samples before the extremes are
	// trusted for the spatial rule.
	SpatialAfter int
	// SpatialZ is the fast deviation (in robust sd) a new extreme must also
	// have to score 1.
	SpatialZ float64
	// Season is the learning rate of the time-of-week baselines (UpdateAt;
	// 0 disables them).
	Season float64
	// SeqRange > 0 bins the sequence model over the slow mean ± SeqRange
	// robust sd instead of the extremes seen so far (which one outlier
	// stretches for good).
	SeqRange float64
	// SeqDecay is the per-sample forgetting factor of the sequence model
	// (0 disables the model; 1 never forgets).
	SeqDecay float64
	// ZDecay > 0 enables the deviation-record rule: a sample whose fast
	// deviation exceeds, by the factor 1+ZTol, every earlier deviation
	// (their maximum decaying by ZDecay per sample) scores 1. It is the
	// spatial rule in units of the local noise: it catches a spike that
	// is not a record of the whole series but is the largest surprise in
	// a long while.
	ZDecay float64
	// ZTol is the margin of the deviation-record rules.
	ZTol float64
	// SeasonAfter > 0 enables the seasonal deviation-record rule from
	// that sample on: a deviation from the time-of-week baseline more than
	// 1+ZTol times every earlier one (decaying by ZDecay) scores 1 — an
	// ordinary value at a time of week where it never occurs, such as a
	// holiday on a weekday. Before, the bucket baselines are too young.
	SeasonAfter int
	// Deferred makes the likelihoods score against the long-run
	// distribution as of the last Commit instead of the latest one (the
	// stage commits once per training interval).
	Deferred bool
}

// DefaultParams returns the tuned defaults (docs/predict.md says how).
func DefaultParams() Params {
	return Params{
		Alpha:       0.3,
		SlowAlpha:   0.01,
		Short:       10,
		LongAlpha:   0.0005,
		Warmup:      150,
		Rest:        20,
		RestSoft:    100,
		RestLevel:   0.65,
		SpatialTol:  0.02,
		SpatialZ:    1,
		SeqDecay:    0.999,
		Season:      0.15,
		ZDecay:      0.9999,
		ZTol:        1.5,
		SeasonAfter: 300,
	}
}

// StageParams are the defaults of the predict stage. Kernel features at
// 100 ms are noisier and heavier-tailed than NAB's series and have no
// wall-clock time of day, so the stage learns more slowly (alpha 0.12,
// slow 0.005, warm-up 300), requires a new extreme to lie 2 robust standard
// deviations from the fast baseline too, and flags a series that freezes
// inside its range (Quiet). The time-of-week baseline applies only when
// the stage knows the wall clock (Config.BootOffsetNs) and so calls
// UpdateAt with a bucket; with Update it is off. These were validated on the synthetic tests
// (no false alarm on 200,000 clean samples) and score lower on NAB than
// DefaultParams; docs/predict.md has both.
func StageParams() Params {
	p := DefaultParams()
	p.Alpha = 0.12
	p.SlowAlpha = 0.005
	p.Warmup = 300
	p.SpatialZ = 2
	p.Quiet = 0.3
	return p
}

// ErrParams reports an invalid parameter.
var ErrParams = errors.New("invalid detector parameter")

// Validate checks ranges.
func (p Params) Validate() error {
	switch {
	case !(p.Alpha > 0 && p.Alpha <= 1):
		return fmt.Errorf("%w: alpha %v not in (0,1]", ErrParams, p.Alpha)
	case !(p.SlowAlpha >= 0 && p.SlowAlpha <= 1):
		return fmt.Errorf("%w: slow_alpha %v not in [0,1]", ErrParams, p.SlowAlpha)
	case p.Short < 1 || p.Short > maxShort:
		return fmt.Errorf("%w: short %d not in [1,%d]", ErrParams, p.Short, maxShort)
	case !(p.LongAlpha > 0 && p.LongAlpha <= 1):
		return fmt.Errorf("%w: long_alpha %v not in (0,1]", ErrParams, p.LongAlpha)
	case p.Warmup < 0 || p.Rest < 0 || p.RestSoft < 0 || p.SeasonAfter < 0:
		return fmt.Errorf("%w: warmup, rest, rest_soft and season_after must be >= 0", ErrParams)
	case !(p.RestLevel > 0 && p.RestLevel <= 1):
		return fmt.Errorf("%w: rest_level %v not in (0,1]", ErrParams, p.RestLevel)
	case !(p.SeqDecay >= 0 && p.SeqDecay <= 1):
		return fmt.Errorf("%w: seq_decay %v not in [0,1]", ErrParams, p.SeqDecay)
	case !(p.ZDecay >= 0 && p.ZDecay <= 1):
		return fmt.Errorf("%w: z_decay %v not in [0,1]", ErrParams, p.ZDecay)
	case !(p.ZTol >= 0):
		return fmt.Errorf("%w: z_tol %v < 0", ErrParams, p.ZTol)
	case !(p.SpatialTol >= 0):
		return fmt.Errorf("%w: spatial_tol %v < 0", ErrParams, p.SpatialTol)
	}
	return nil
}

// Set assigns one parameter by its snake_case name (for command lines).
func (p *Params) Set(name, value string) error {
	f, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return fmt.Errorf("%w: %s=%q is not a number", ErrParams, name, value)
	}
	switch name {
	case "alpha":
		p.Alpha = f
	case "slow_alpha":
		p.SlowAlpha = f
	case "short":
		p.Short = int(f)
	case "long_alpha":
		p.LongAlpha = f
	case "warmup":
		p.Warmup = int(f)
	case "rest":
		p.Rest = int(f)
	case "rest_soft":
		p.RestSoft = int(f)
	case "rest_level":
		p.RestLevel = f
	case "quiet":
		p.Quiet = f
	case "spatial_after":
		p.SpatialAfter = int(f)
	case "spatial_z":
		p.SpatialZ = f
	case "season":
		p.Season = f
	case "seq_range":
		p.SeqRange = f
	case "seq_decay":
		p.SeqDecay = f
	case "spatial_tol":
		p.SpatialTol = f
	case "z_decay":
		p.ZDecay = f
	case "z_tol":
		p.ZTol = f
	case "season_after":
		p.SeasonAfter = int(f)
	default:
		return fmt.Errorf("%w: unknown parameter %q", ErrParams, name)
	}
	return nil
}

// ParseParams applies "name=value,name=value" to p.
func ParseParams(p Params, s string) (Params, error) {
	if strings.TrimSpace(s) == "" {
		return p, p.Validate()
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return p, fmt.Errorf("%w: %q is not name=value", ErrParams, kv)
		}
		if err := p.Set(k, v); err != nil {
			return p, err
		}
	}
	return p, p.Validate()
}

// scale is one exponentially weighted baseline with its mean absolute
// deviation.
type scale struct {
	Mean, MAD float64
}

// z returns |x-mean| in robust standard deviations (MAD*1.2533 is sigma
// for Gaussian noise) and, when a > 0, updates the baseline with weight a.
func (s *scale) z(x, a, floor float64) float64 {
	e := x - s.Mean
	ae := math.Abs(e)
	z := ae / (s.MAD*1.2533 + floor)
	s.Mean += a * e
	s.MAD += a * (ae - s.MAD)
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
	S      State
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
}

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

// Update scores x and learns from it (no time-of-day context).
func (d *Detector) Update(x float64) float64 { return d.UpdateAt(x, -1) }

// UpdateAt scores x and learns from it. bucket is x's time bucket (see
// Bucket), or -1 when the series has no wall-clock time; with it, the
// detector also compares x with what is usual at that time of day and kind
// of day, as Numenta's HTM detector does with its time-of-day and weekend
// encodings. NaN or Inf (missing) returns NaN and
// leaves the model untouched.
func (d *Detector) UpdateAt(x float64, bucket int32) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
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
	zf := s.Fast.z(x, fa, floor)
	rawF := math.Erf(zf / math.Sqrt2 / 2)
	sf := s.LikeFast.update(rawF, short, d.p.LongAlpha, learn, d.p.Deferred)
	score := sf
	d.Parts = [6]float64{sf, 0, 0, 0, rawF, 0}
	if d.p.SlowAlpha > 0 {
		zs := s.Slow.z(x, sa, floor)
		rawS := math.Erf(zs / math.Sqrt2 / 2)
		ss := s.LikeSlow.update(rawS, short, d.p.LongAlpha, learn, d.p.Deferred)
		score = math.Max(score, ss)
		d.Parts[1] = ss
	}
	if bucket >= 0 && bucket < Buckets && d.p.Season > 0 {
		ss, h := d.seasonal(x, bucket, floor, learn)
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
	if d.newRecord(x, zf, learn) {
		score = 1
		hard = true
		d.Parts[3] = 1
	}
	if learn {
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
// that broke no record.
func (d *Detector) rest(score float64, hard bool) float64 {
	s := &d.S
	since := s.N - s.LastHigh
	if since <= int64(d.p.Rest) || (since <= int64(d.p.RestSoft) && !hard) {
		score = 0
	}
	if score >= d.p.RestLevel {
		s.LastHigh = s.N
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
func (d *Detector) seasonal(x float64, bucket int32, floor float64, learn bool) (score float64, hard bool) {
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
		sc.Mean = x
	}
	z := sc.z(x, w, floor+0.1*s.Slow.MAD)
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
		if learn {
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
