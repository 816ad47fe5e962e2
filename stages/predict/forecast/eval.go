package forecast

import "math"

// Eval compares a forecaster with the naive forecast x[t+h] = x[t] on one
// series, online: each forecast is made before its target is seen.
type Eval struct {
	N        int     // forecasts scored
	MAE      float64 // mean absolute error of the forecaster
	NaiveMAE float64 // the same for the naive forecast at the same horizon
	// MASE is MAE/NaiveMAE: the mean absolute error scaled by the naive
	// forecast's error at the same horizon over the same points (below 1
	// beats naive).
	MASE float64
	// Coverage is the share of targets inside the prediction interval.
	Coverage float64
}

// Evaluate runs a new forecaster with p over xs and scores every forecast
// whose target lies after the first skip samples.
func Evaluate(xs []float64, p Params, skip int) (Eval, error) {
	f, err := New(p)
	if err != nil {
		return Eval{}, err
	}
	h := p.Horizon
	preds := make([]Forecast, len(xs))
	var ev Eval
	var sumE, sumN float64
	in := 0
	for t, x := range xs {
		preds[t] = f.Update(x)
		if t >= h && t >= skip {
			fc := preds[t-h]
			if math.IsNaN(fc.Value) || math.IsNaN(x) || math.IsNaN(xs[t-h]) {
				continue
			}
			sumE += math.Abs(x - fc.Value)
			sumN += math.Abs(x - xs[t-h])
			if x >= fc.Lo && x <= fc.Hi {
				in++
			}
			ev.N++
		}
	}
	if ev.N > 0 {
		ev.MAE = sumE / float64(ev.N)
		ev.NaiveMAE = sumN / float64(ev.N)
		ev.Coverage = float64(in) / float64(ev.N)
	}
	ev.MASE = ev.MAE / ev.NaiveMAE
	if ev.NaiveMAE == 0 {
		ev.MASE = math.NaN()
	}
	return ev, nil
}

// CompareNet is one series' MASE at horizon h, online, over the targets
// after skip samples (and where keep, if not nil, says so): the statistical
// forecaster's alone (base) and with a Net beside it (chosen), and the
// share of the series where the Net's forecast was the one given.
func CompareNet(xs []float64, h, skip int, keep func(t int) bool) (base, chosen, given float64) {
	f, _ := New(DefaultParams(h))
	var n Net
	n.Init(h, 0.95)
	pb, pc := make([]float64, len(xs)), make([]float64, len(xs))
	var sb, sc, sn float64
	wins := 0
	for t, x := range xs {
		if t >= h && t >= skip && (keep == nil || keep(t)) && !math.IsNaN(x) && !math.IsNaN(xs[t-h]) && !math.IsNaN(pb[t-h]) {
			sb += math.Abs(x - pb[t-h])
			sc += math.Abs(x - pc[t-h])
			sn += math.Abs(x - xs[t-h])
		}
		b := f.Update(x)
		pb[t] = b.Value
		pc[t] = n.Update(x, b).Value
		if n.Winning() {
			wins++
		}
	}
	if sn == 0 {
		return math.NaN(), math.NaN(), 0
	}
	return sb / sn, sc / sn, float64(wins) / float64(len(xs))
}
