package anomaly

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// maxShort bounds the likelihood's short averaging window so that the ring
// buffer is a fixed array (no allocation, constant memory).
const maxShort = 64

// Params are a detector's settings. The defaults (DefaultParams) were
// chosen on the NAB development data with one setting for every series;
// nothing is tuned per series.
type Params struct {
	// Alpha is the weight of a new sample in the fast baseline and its
	// deviation (an EWMA: larger learns faster).
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
	// RestLevel is the score that counts as a detection for Rest.
	RestLevel float64
	// SeqDecay is the per-sample forgetting factor of the sequence model
	// (0 disables the model; 1 never forgets).
	SeqDecay float64
	// Log scores the deviation models on sign(x)*log1p(|x|) (1) instead of x
	// (0): counts and rates have multiplicative noise.
	Log float64
	// SpatialTol: a sample beyond the extremes seen so far by more than
	// this fraction of their range scores 1 (0 disables).
	SpatialTol float64
}

// DefaultParams returns the tuned defaults.
func DefaultParams() Params {
	return Params{
		Alpha:      0.05,
		SlowAlpha:  0.005,
		Short:      10,
		LongAlpha:  0.002,
		Warmup:     150,
		Rest:       150,
		RestLevel:  0.6,
		SpatialTol: 0.05,
		SeqDecay:   0.999,
	}
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
	case p.Warmup < 0 || p.Rest < 0:
		return fmt.Errorf("%w: warmup and rest must be >= 0", ErrParams)
	case !(p.RestLevel > 0 && p.RestLevel <= 1):
		return fmt.Errorf("%w: rest_level %v not in (0,1]", ErrParams, p.RestLevel)
	case !(p.SeqDecay >= 0 && p.SeqDecay <= 1):
		return fmt.Errorf("%w: seq_decay %v not in [0,1]", ErrParams, p.SeqDecay)
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
	case "rest_level":
		p.RestLevel = f
	case "seq_decay":
		p.SeqDecay = f
	case "log":
		p.Log = f
	case "spatial_tol":
		p.SpatialTol = f
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
// for Gaussian noise) and updates the baseline with weight a.
func (s *scale) z(x, a, floor float64) float64 {
	e := x - s.Mean
	ae := math.Abs(e)
	d := s.MAD*1.2533 + floor
	z := ae / d
	s.Mean += a * e
	s.MAD += a * (ae - s.MAD)
	return z
}

// likelihood turns a raw score stream into Numenta's log-likelihood score.
type likelihood struct {
	Ring  [maxShort]float64
	Pos   int
	Fill  int
	Sum   float64
	Mean  float64
	Var   float64
	Count int
}

func (l *likelihood) update(raw float64, short int, a float64, learn bool) float64 {
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
	// Lower bounds as in Numenta's estimateNormal: a near-constant raw
	// score must not make every wobble look impossible.
	mean := math.Max(l.Mean, 0.03)
	sd := math.Sqrt(math.Max(l.Var, 0.0003))
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
	// log(tail)/log(1e-10): a tail of 1e-5 scores 0.5, 1e-10 scores 1.
	return math.Min(1, math.Log(tail+1e-10)/math.Log(1e-10))
}

// Detector scores one series.
type Detector struct {
	p        Params
	N        int64
	Fast     scale
	Slow     scale
	LikeFast likelihood
	LikeSlow likelihood
	LikeSeq  likelihood
	Seq      sequence
	Min, Max float64
	LastHigh int64
	Frozen   bool
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
// kept by value in arrays).
func (d *Detector) Init(p Params) {
	*d = Detector{p: p, LastHigh: math.MinInt64 / 2}
}

// Params returns the detector's parameters.
func (d *Detector) Params() Params { return d.p }

// SetAlpha changes the fast learning rate (the stage's learning_rate).
func (d *Detector) SetAlpha(a float64) { d.p.Alpha = a }

// Freeze stops learning: samples are scored against the model as it is.
func (d *Detector) Freeze(f bool) { d.Frozen = f }

// Update scores x and learns from it. NaN (missing) returns NaN and
// leaves the model untouched.
func (d *Detector) Update(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return math.NaN()
	}
	learn := !d.Frozen
	v := x
	if d.p.Log > 0 {
		v = math.Copysign(math.Log1p(math.Abs(x)), x)
	}
	if d.N == 0 {
		d.Fast = scale{Mean: v}
		d.Slow = scale{Mean: v}
		d.Min, d.Max = x, x
		d.N = 1
		return 0
	}
	if learn {
		d.N++
	}
	// A floor on the deviation keeps a flat line from dividing by zero
	// while still making any change on it surprising.
	floor := 1e-9 * (1 + math.Abs(d.Fast.Mean))
	fa, sa := d.p.Alpha, d.p.SlowAlpha
	if !learn {
		fa, sa = 0, 0
	}
	// Until the baselines have seen 1/alpha samples, average plainly so
	// that the first samples do not dominate.
	if n := float64(d.N); 1/n > fa && learn {
		fa = 1 / n
	}
	zf := d.Fast.z(v, fa, floor)
	rawF := math.Erf(zf / math.Sqrt2 / 2)
	sf := d.LikeFast.update(rawF, d.p.Short, d.p.LongAlpha, learn)
	score := sf
	d.Parts = [6]float64{sf, 0, 0, 0, rawF, 0}
	if d.p.SlowAlpha > 0 {
		if n := float64(d.N); 1/n > sa && learn {
			sa = 1 / n
		}
		zs := d.Slow.z(v, sa, floor)
		rawS := math.Erf(zs / math.Sqrt2 / 2)
		ss := d.LikeSlow.update(rawS, d.p.Short, d.p.LongAlpha, learn)
		score = math.Max(score, ss)
		d.Parts[1] = ss
	}
	if d.p.SeqDecay > 0 {
		raw := d.Seq.update(bin(x, d.Min, d.Max), d.N, d.p.SeqDecay, learn)
		sq := d.LikeSeq.update(raw, d.p.Short, d.p.LongAlpha, learn)
		score = math.Max(score, sq)
		d.Parts[2], d.Parts[5] = sq, raw
	}
	if d.p.SpatialTol > 0 && d.Max > d.Min {
		tol := (d.Max - d.Min) * d.p.SpatialTol
		if x > d.Max+tol || x < d.Min-tol {
			score = 1
			d.Parts[3] = 1
		}
	}
	if learn {
		d.Min = math.Min(d.Min, x)
		d.Max = math.Max(d.Max, x)
	}
	if d.N <= int64(d.p.Warmup) {
		return 0
	}
	out := score
	if d.N-d.LastHigh <= int64(d.p.Rest) {
		out = 0
	}
	if out >= d.p.RestLevel {
		d.LastHigh = d.N
	}
	return out
}
