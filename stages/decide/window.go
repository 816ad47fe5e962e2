package decide

import (
	"math"
	"time"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

// NewWindow returns a prediction output with every value missing, for
// callers that build inputs by hand (tests, replays of feature files).
func NewWindow(startNs, endNs uint64) predict.Output {
	w := predict.Output{Joint: math.NaN()}
	w.Alarm.Level = math.NaN()
	w.Vector.StartNs, w.Vector.EndNs = startNs, endNs
	for i := range w.Vector.Values {
		w.Vector.Values[i] = math.NaN()
		w.Score[i] = math.NaN()
		w.Forecast[i] = predict.Forecast{Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	return w
}

// windowEnv is the expr.Env of one prediction output.
type windowEnv struct{ w *predict.Output }

func (e windowEnv) Feature(id features.ID) float64 { return e.w.Vector.Values[id] }
func (e windowEnv) Anomaly(id features.ID) float64 { return e.w.Score[id] }
func (e windowEnv) Joint() float64                 { return e.w.Joint }
func (e windowEnv) Alarm() float64                 { return e.w.Alarm.Level }
func (e windowEnv) Time() uint64                   { return e.w.Vector.EndNs }

// Forecast at horizon h: the predictor's own horizon when h is 0 or equal
// to it; otherwise a straight line from the current value to the forecast,
// up to twice the predictor's horizon (further than that is not a
// forecast any more, and is unknown).
func (e windowEnv) Forecast(id features.ID, h time.Duration) (float64, float64, float64) {
	return e.at(e.w.Vector.Values[id], e.w.Forecast[id], h)
}

func (e windowEnv) at(cur float64, f predict.Forecast, h time.Duration) (float64, float64, float64) {
	H := time.Duration(e.w.HorizonNs)
	if h == 0 || h == H {
		return f.Value, f.Lo, f.Hi
	}
	if H <= 0 || h > 2*H {
		return math.NaN(), math.NaN(), math.NaN()
	}
	r := float64(h) / float64(H)
	lerp := func(x float64) float64 { return cur + (x-cur)*r }
	return lerp(f.Value), lerp(f.Lo), lerp(f.Hi)
}

// Plugin is a probe plugin's feature of that name, else a detector
// plugin's score; unknown when no loaded plugin has it.
func (e windowEnv) Plugin(name string) float64 {
	if i := e.probe(name); i >= 0 {
		return e.w.Vector.Probe[i]
	}
	for _, p := range e.w.Plugin[:e.w.NPlugin] {
		if p.Name == name {
			return p.Score
		}
	}
	return math.NaN()
}

// PluginAnomaly is a probe plugin feature's anomaly score; a detector
// plugin's score has none (it is a score already): unknown.
func (e windowEnv) PluginAnomaly(name string) float64 {
	if i := e.probe(name); i >= 0 {
		return e.w.ProbeScore[i]
	}
	return math.NaN()
}

// PluginForecast is a probe plugin feature's forecast at horizon h, as
// Forecast.
func (e windowEnv) PluginForecast(name string, h time.Duration) (float64, float64, float64) {
	if i := e.probe(name); i >= 0 {
		return e.at(e.w.Vector.Probe[i], e.w.ProbeForecast[i], h)
	}
	return math.NaN(), math.NaN(), math.NaN()
}

// probe is the index of the probe plugin feature name in the window, -1
// when there is none.
func (e windowEnv) probe(name string) int {
	for i, n := range e.w.Vector.ProbeNames() {
		if n == name {
			return i
		}
	}
	return -1
}
