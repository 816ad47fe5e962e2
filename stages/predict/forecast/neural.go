package forecast

import "math"

// A small neural forecaster that works beside a Forecaster (issue 15: a
// learned model that earns its place). It is a one-hidden-layer network
// (tanh) over the last NetLags values, the level and the statistical
// forecast, trained online by SGD on each h-step pair as its target
// arrives. It learns the statistical forecast's h-step error (a residual:
// where there is nothing to learn it outputs about 0 and changes nothing),
// and its forecast is given only while its recent error is lower than the
// statistical one's: per feature, it is kept only where it wins.
const (
	NetLags   = 16
	NetHidden = 16
	netIn     = NetLags + 2 // lags, the statistical forecast's offset, a bias
	netRing   = NetLags + MaxHorizon
)

// Training and choice constants. The rate and size were chosen on the NAB
// development series (docs/predict.md says how, and what that costs the
// figure's honesty); the clip bounds keep one absurd value from blowing up
// the weights, as clipSD does for the statistical forecaster.
const (
	netRate    = 0.003
	netClipIn  = 10 // standardised inputs within ±netClipIn
	netClipOut = 5  // standardised residual targets within ±netClipOut
	netErrRate = 0.005
	netWarm    = 200 // training steps before its forecast may be given
)

// NetState is what the neural forecaster learns, fixed-size for
// encoding/binary (it is part of the stage's model file).
type NetState struct {
	N           int64
	Ring        [netRing]float64    // raw values, Ring[N%netRing] is the newest
	Base, Own   [MaxHorizon]float64 // forecasts made for the next h targets
	Mean, Scale float64             // slow standardisation
	W1          [NetHidden][netIn]float64
	W2          [NetHidden]float64
	B2          float64
	// ErrBase and ErrOwn are the statistical and the neural forecasts'
	// recent mean absolute h-step errors (standardised, exponentially
	// weighted); the neural one is given only while ErrOwn < ErrBase.
	ErrBase, ErrOwn float64
	// ErrQ is the Cover quantile of the given forecast's standardised
	// absolute error while the neural one was given (its interval).
	ErrQ    float64
	Trained int64
}

// Net is one series' neural forecaster.
type Net struct {
	h      int
	cover  float64
	frozen bool
	hid    [NetHidden]float64 // activations of the last forward pass
	S      NetState
}

// Init makes n an untrained network forecasting h steps ahead (1 ≤ h ≤
// MaxHorizon) with intervals covering cover of the targets.
func (n *Net) Init(h int, cover float64) {
	*n = Net{h: h, cover: cover}
	n.Reset()
}

// Reset forgets everything learned. The initial weights are a fixed
// pseudo-random draw, so that a replay is deterministic.
func (n *Net) Reset() {
	n.S = NetState{}
	seed := uint64(0x9e3779b97f4a7c15)
	for j := range n.S.W1 {
		for i := range n.S.W1[j] {
			n.S.W1[j][i] = splitmixNorm(&seed) / math.Sqrt(netIn)
		}
		// A small output layer: the untrained network adds almost
		// nothing to the statistical forecast.
		n.S.W2[j] = 0.1 * splitmixNorm(&seed) / math.Sqrt(NetHidden)
	}
}

// Freeze stops (true) or resumes learning; forecasts continue.
func (n *Net) Freeze(fr bool) { n.frozen = fr }

// Horizon is the number of steps ahead it forecasts.
func (n *Net) Horizon() int { return n.h }

// Winning reports whether the neural forecast is the one given now.
func (n *Net) Winning() bool {
	return n.S.Trained >= netWarm && n.S.ErrOwn < n.S.ErrBase
}

// splitmixNorm is a standard normal draw (Box-Muller over splitmix64): a
// generator with no state beyond the seed, so Reset needs no allocation.
func splitmixNorm(seed *uint64) float64 {
	next := func() float64 {
		*seed += 0x9e3779b97f4a7c15
		z := *seed
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		return (float64(z>>11) + 0.5) / (1 << 53)
	}
	u, v := next(), next()
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*v)
}

// at returns x[N-1-k] (k = 0 is the newest value).
func (s *NetState) at(k int64) float64 { return s.Ring[(s.N-1-k)%netRing] }

func clipTo(v, lim float64) float64 { return math.Max(-lim, math.Min(lim, v)) }

// inputs fills u with the network's input for the forecast made k steps
// back: the lags relative to the value then, the value's deviation from
// the level and the statistical forecast's offset from the value.
func (n *Net) inputs(u *[netIn]float64, k int64, base float64) {
	s := &n.S
	x := s.at(k)
	for i := 1; i < NetLags; i++ {
		v := x
		if j := k + int64(i); j < s.N {
			v = s.at(j)
		}
		u[i-1] = clipTo((v-x)/s.Scale, netClipIn)
	}
	u[NetLags-1] = clipTo((x-s.Mean)/s.Scale, netClipIn)
	u[NetLags] = clipTo((base-x)/s.Scale, netClipIn)
	u[NetLags+1] = 1
}

// forward returns the network's output for u, keeping the activations.
func (n *Net) forward(u *[netIn]float64) float64 {
	y := n.S.B2
	for j := range n.S.W1 {
		var a float64
		for i, v := range u {
			a += n.S.W1[j][i] * v
		}
		n.hid[j] = math.Tanh(a)
		y += n.S.W2[j] * n.hid[j]
	}
	return y
}

// train takes one SGD step towards target (Huber: the gradient is clipped
// at 1, so that one burst moves the weights no more than a typical error).
func (n *Net) train(u *[netIn]float64, target float64) {
	g := clipTo(n.forward(u)-target, 1)
	for j := range n.S.W1 {
		gh := g * n.S.W2[j] * (1 - n.hid[j]*n.hid[j])
		n.S.W2[j] -= netRate * g * n.hid[j]
		for i, v := range u {
			n.S.W1[j][i] -= netRate * gh * v
		}
	}
	n.S.B2 -= netRate * g
}

// Update learns from x, given base, the statistical forecaster's forecast
// made with x, and returns the forecast to give: base's own unless the
// network's recent error is lower. NaN or Inf x (or a NaN base) returns
// base unchanged and learns nothing.
func (n *Net) Update(x float64, base Forecast) Forecast {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(base.Value) {
		return base
	}
	s := &n.S
	h := int64(n.h)
	if s.N == 0 {
		s.Mean, s.Scale = x, math.Abs(x)*0.01+1e-9
	}
	if s.N >= h && !n.frozen {
		n.learn(x, h)
	}
	s.Ring[s.N%netRing] = x
	s.N++
	if !n.frozen {
		w := math.Max(0.001, 1/float64(s.N))
		d := x - s.Mean
		if s.N > clipAfter {
			d = clipTo(d, clipSD*s.Scale)
		}
		s.Mean += w * d
		s.Scale = math.Max(s.Scale+w*(math.Abs(d)-s.Scale), 1e-9*(1+math.Abs(s.Mean)))
	}
	var u [netIn]float64
	n.inputs(&u, 0, base.Value)
	own := base.Value + s.Scale*n.forward(&u)
	if math.IsNaN(own) || math.IsInf(own, 0) {
		own = base.Value
	}
	i := (s.N - 1) % h
	s.Base[i], s.Own[i] = base.Value, own
	if !n.Winning() {
		return base
	}
	half := s.ErrQ * s.Scale
	if s.ErrQ == 0 {
		half = (base.Hi - base.Lo) / 2
	}
	return Forecast{Value: own, Lo: own - half, Hi: own + half}
}

// learn scores the forecasts made h steps ago against x and trains the
// network on that pair.
func (n *Net) learn(x float64, h int64) {
	s := &n.S
	i := s.N % h
	eb := math.Min(clipSD, math.Abs(x-s.Base[i])/s.Scale)
	eo := math.Min(clipSD, math.Abs(x-s.Own[i])/s.Scale)
	if s.ErrBase == 0 {
		s.ErrBase, s.ErrOwn = eb+1e-12, eo+1e-12
	}
	s.ErrBase += netErrRate * (eb - s.ErrBase)
	s.ErrOwn += netErrRate * (eo - s.ErrOwn)
	if n.Winning() {
		if s.ErrQ == 0 {
			s.ErrQ = eo + 1e-9
		}
		step := 0.05 * (s.ErrQ + 1e-6)
		if eo > s.ErrQ {
			s.ErrQ += step * n.cover
		} else {
			s.ErrQ -= step * (1 - n.cover)
		}
	}
	// The pair: the input as it was h steps ago (lags from the ring, the
	// level and scale as they are now) and the statistical forecast's error.
	var u [netIn]float64
	n.inputs(&u, h-1, s.Base[i])
	n.train(&u, clipTo((x-s.Base[i])/s.Scale, netClipOut))
	s.Trained++
}
