package forecast

import (
	"errors"
	"fmt"
	"math"
)

// Fixed bounds so that a Forecaster is a plain value without allocations.
const (
	MaxOrder   = 8
	MaxHorizon = 512
	MaxBatch   = 512
	ringLen    = MaxOrder + MaxHorizon + MaxBatch
	dim        = MaxOrder + 1 // lags and an intercept
)

// Params configure a forecaster.
type Params struct {
	Order   int     // number of lags p, 1..MaxOrder
	Horizon int     // steps ahead h, 1..MaxHorizon
	Lambda  float64 // RLS forgetting factor in (0,1]; 1 never forgets
	Batch   int     // training pairs applied together, 1..MaxBatch
	Cover   float64 // target share of targets inside the interval, e.g. 0.95
}

// DefaultParams predicts h steps ahead.
func DefaultParams(h int) Params {
	return Params{Order: 6, Horizon: h, Lambda: 0.995, Batch: 1, Cover: 0.95}
}

// ErrParams reports an invalid parameter.
var ErrParams = errors.New("invalid forecaster parameter")

// Validate checks ranges.
func (p Params) Validate() error {
	switch {
	case p.Order < 1 || p.Order > MaxOrder:
		return fmt.Errorf("%w: order %d not in [1,%d]", ErrParams, p.Order, MaxOrder)
	case p.Horizon < 1 || p.Horizon > MaxHorizon:
		return fmt.Errorf("%w: horizon %d not in [1,%d]", ErrParams, p.Horizon, MaxHorizon)
	case !(p.Lambda > 0 && p.Lambda <= 1):
		return fmt.Errorf("%w: lambda %v not in (0,1]", ErrParams, p.Lambda)
	case p.Batch < 1 || p.Batch > MaxBatch:
		return fmt.Errorf("%w: batch %d not in [1,%d]", ErrParams, p.Batch, MaxBatch)
	case !(p.Cover > 0 && p.Cover < 1):
		return fmt.Errorf("%w: cover %v not in (0,1)", ErrParams, p.Cover)
	}
	return nil
}

// State is what a forecaster learns, fixed-size for encoding/binary.
type State struct {
	N       int64
	Ring    [ringLen]float64 // raw values, Ring[N%ringLen] is the newest
	Mean    float64          // slow standardisation
	Scale   float64
	W       [dim]float64       // coefficients
	P       [dim * dim]float64 // inverse correlation matrix
	Pending int64              // training pairs waiting for the batch end
	// ErrQ tracks the Cover quantile of the standardised absolute h-step
	// error (stochastic approximation): the interval is ±ErrQ, so it is
	// calibrated whatever the shape of the errors.
	ErrQ float64
	// Pred holds the forecasts made for the next Horizon steps (the
	// combined one, the autoregression's and the mean's), so that each can
	// be scored when its target arrives.
	Pred, PredAR, PredMean [MaxHorizon]float64
	// MSE holds the candidates' (autoregression, naive, mean) recent mean
	// absolute errors, standardised and exponentially weighted; the
	// forecast is the candidate with the smallest.
	MSE [3]float64
	// Cold holds the summed one-step absolute errors of the naive forecast
	// and of the running mean, which choose the forecast until the first
	// h-step errors exist (a cold start, e.g. the first prediction window
	// after the daemon starts).
	Cold [2]float64
	// Scored counts the h-step errors seen (capped at minScored).
	Scored int64
}

// minScored is how many h-step errors the choice among the autoregression,
// the naive forecast and the mean waits for; before, the cold-start rule
// chooses (a choice made on a handful of errors is mostly noise).
const minScored = 16

// Forecaster follows one series.
type Forecaster struct {
	p      Params
	frozen bool
	S      State
}

// New returns a forecaster; p must be valid.
func New(p Params) (*Forecaster, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	f := &Forecaster{}
	f.Init(p)
	return f, nil
}

// Init makes f an untrained forecaster with parameters p (assumed valid).
func (f *Forecaster) Init(p Params) {
	*f = Forecaster{p: p}
	f.Reset()
}

// Reset forgets everything learned.
func (f *Forecaster) Reset() {
	f.S = State{}
	for i := 0; i < dim; i++ {
		f.S.P[i*dim+i] = 100
	}
	// Start as the naive forecast: x[t+h] = x[t].
	f.S.W[1] = 1
}

// Params returns the parameters.
func (f *Forecaster) Params() Params { return f.p }

// SetLambda changes the forgetting factor (the stage's learning_rate).
func (f *Forecaster) SetLambda(l float64) { f.p.Lambda = l }

// Freeze stops (true) or resumes learning; forecasts continue.
func (f *Forecaster) Freeze(fr bool) { f.frozen = fr }

// at returns x[N-1-k] (k = 0 is the newest value).
func (s *State) at(k int64) float64 {
	return s.Ring[(s.N-1-k)%ringLen]
}

// regressors fills u with the standardised lags ending k steps back.
func (f *Forecaster) regressors(u *[dim]float64, k int64) {
	s := &f.S
	u[0] = 1
	for j := 1; j <= f.p.Order; j++ {
		idx := k + int64(j-1)
		v := s.at(0)
		if idx < s.N {
			v = s.at(idx)
		} else if s.N > 0 {
			v = s.at(s.N - 1)
		}
		u[j] = s.std(v)
	}
}

// clipSD bounds, in units of the scale, the standardised values the
// forecaster learns from and the errors it weighs candidates by: one
// absurd value (1e308) would otherwise blow up the level, the scale, the
// fit and a candidate's error for hundreds of thousands of samples. A real
// level shift is still learned: each clipped step widens the scale, and
// with it the bound, geometrically.
const clipSD = 100

// clipAfter is the number of samples before the scale is trusted to
// bound deviations (the first values set it).
const clipAfter = 32

// std standardises v by the slow level and scale, within ±clipSD.
func (s *State) std(v float64) float64 {
	return math.Max(-clipSD, math.Min(clipSD, (v-s.Mean)/s.Scale))
}

// rls applies one training pair (u, y) with forgetting lambda.
func (f *Forecaster) rls(u *[dim]float64, y float64) {
	s := &f.S
	n := f.p.Order + 1
	var pu [dim]float64
	den := f.p.Lambda
	for i := 0; i < n; i++ {
		var acc float64
		for j := 0; j < n; j++ {
			acc += s.P[i*dim+j] * u[j]
		}
		pu[i] = acc
		den += u[i] * acc
	}
	e := y
	for i := 0; i < n; i++ {
		e -= s.W[i] * u[i]
	}
	// Huber-style clipping: a spike moves the fit no more than an error of
	// a few typical sizes would, so that one outlier does not spoil it.
	if lim := 3 * (s.ErrQ + 1e-9) / 2; s.ErrQ > 0 && math.Abs(e) > lim {
		e = math.Copysign(lim, e)
	}
	inv := 1 / den
	for i := 0; i < n; i++ {
		s.W[i] += pu[i] * inv * e
	}
	il := 1 / f.p.Lambda
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			s.P[i*dim+j] = (s.P[i*dim+j] - pu[i]*pu[j]*inv) * il
		}
	}
	// Keep P bounded: with forgetting, directions the input does not excite
	// (a constant series, collinear lags) grow without limit and the next
	// change would make the fit explode. Shrink only the offending row and
	// column, so that the directions being learned keep their gain.
	const maxP = 1e4
	for i := 0; i < n; i++ {
		if d := s.P[i*dim+i]; d > maxP {
			f := math.Sqrt(maxP / d)
			for j := 0; j < n; j++ {
				s.P[i*dim+j] *= f
				s.P[j*dim+i] *= f
			}
		}
	}
}

// Forecast is a point forecast with its prediction interval.
type Forecast struct {
	Value, Lo, Hi float64
}

// Update learns from x and returns the forecast for Horizon steps later.
// NaN or Inf returns a NaN forecast and changes nothing.
func (f *Forecaster) Update(x float64) Forecast {
	nan := Forecast{math.NaN(), math.NaN(), math.NaN()}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nan
	}
	s := &f.S
	h := int64(f.p.Horizon)
	if s.N == 0 {
		s.Mean, s.Scale = x, math.Abs(x)*0.01+1e-9
	}
	// Score the forecasts made h steps ago for this sample.
	if s.N >= h && !f.frozen {
		f.score(x, h)
	}
	if s.N >= 1 && s.Scored < minScored && !f.frozen {
		s.Cold[0] += math.Abs(x - s.at(0))
		s.Cold[1] += math.Abs(x - s.median())
	}
	s.Ring[s.N%ringLen] = x
	s.N++
	if !f.frozen {
		f.learn(x, h)
	}
	var u [dim]float64
	f.regressors(&u, 0)
	var y float64
	for i := 0; i <= f.p.Order; i++ {
		y += s.W[i] * u[i]
	}
	ar := y*s.Scale + s.Mean
	if math.IsNaN(ar) || math.IsInf(ar, 0) {
		ar = x // a diverged fit falls back to the naive forecast
	}
	v := f.choose(x, ar)

	i := (s.N - 1) % h
	s.Pred[i], s.PredAR[i], s.PredMean[i] = v, ar, s.Mean
	half := s.ErrQ * s.Scale
	if s.ErrQ == 0 {
		half = math.Inf(1) // no error seen yet: no honest interval
	}
	return Forecast{Value: v, Lo: v - half, Hi: v + half}
}

// score measures the forecasts made h steps ago against x: the interval's
// error quantile and each candidate's recent error.
func (f *Forecaster) score(x float64, h int64) {
	s := &f.S
	i := s.N % h
	e := math.Min(clipSD, math.Abs(x-s.Pred[i])/s.Scale)
	if s.ErrQ == 0 {
		s.ErrQ = e + 1e-9
	}
	step := 0.05 * (s.ErrQ + 1e-6)
	if e > s.ErrQ {
		s.ErrQ += step * f.p.Cover
	} else {
		s.ErrQ -= step * (1 - f.p.Cover)
	}
	if s.Scored < minScored {
		s.Scored++
	}
	for c, p := range [3]float64{s.PredAR[i], s.at(h - 1), s.PredMean[i]} {
		e := math.Min(clipSD, math.Abs(x-p)/s.Scale)
		if s.MSE[c] == 0 {
			s.MSE[c] = e + 1e-12
		}
		s.MSE[c] += 0.005 * (e - s.MSE[c])
	}
}

// learn updates the level, the scale and, every Batch samples, the
// autoregression with x.
func (f *Forecaster) learn(x float64, h int64) {
	s := &f.S
	const a = 0.001
	w := math.Max(a, 1/float64(s.N))
	d := x - s.Mean
	if s.N > clipAfter {
		d = math.Max(-clipSD*s.Scale, math.Min(clipSD*s.Scale, d))
	}
	s.Mean += w * d
	s.Scale += w * (math.Abs(d) - s.Scale)
	if s.Scale < 1e-9*(1+math.Abs(s.Mean)) {
		s.Scale = 1e-9 * (1 + math.Abs(s.Mean))
	}
	if s.N > h {
		s.Pending++
		if s.Pending >= int64(f.p.Batch) {
			// Apply the batch oldest first: pair k has target
			// x[N-1-k] and lags ending k+h back.
			var u [dim]float64
			for k := s.Pending - 1; k >= 0; k-- {
				if k+h >= s.N {
					continue
				}
				f.regressors(&u, k+h)
				f.rls(&u, s.std(s.at(k)))
			}
			s.Pending = 0
		}
	}
}

// choose picks the forecast to give for x, given the autoregression's ar.
func (f *Forecaster) choose(x, ar float64) float64 {
	s := &f.S
	// Choose among the autoregression, the naive forecast and the mean the
	// one with the lowest recent absolute error: where the autoregression
	// has nothing to add, the stage is no worse than the simpler forecasts.
	if s.Scored < minScored {
		// Cold start: too few h-step errors to choose on. The one-step
		// errors say whether the series wanders (naive wins) or scatters
		// around a level (the median wins); over h steps a wandering
		// series drifts further, so this choice leans towards naive where
		// it matters.
		if s.Cold[1] < s.Cold[0] {
			return s.median()
		}
		return x
	}
	best := 0
	for c := 1; c < 3; c++ {
		if s.MSE[c] < s.MSE[best] {
			best = c
		}
	}
	return [3]float64{ar, x, s.Mean}[best]
}

// coldLen bounds the values the cold-start median looks at (the newest).
const coldLen = 32

// median is the median of the newest min(N, coldLen) values: under absolute
// error the best constant forecast, and unlike the mean not dragged by the
// bursts that kernel rates have.
func (s *State) median() float64 {
	n := min(s.N, coldLen)
	var v [coldLen]float64
	for k := int64(0); k < n; k++ {
		x := s.at(k)
		j := k
		for ; j > 0 && v[j-1] > x; j-- {
			v[j] = v[j-1]
		}
		v[j] = x
	}
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
