package decide

import (
	"math"
	"time"

	"github.com/ainka/ainka/stages/features"
)

// Forecast is one feature's forecast at the predictor's horizon.
type Forecast struct {
	Value, Lo, Hi float64
}

// Window is what the engine reads of one prediction window: the features
// and the predictor's view of them. It implements expr.Env.
type Window struct {
	Vector   features.Vector
	Anomaly  [features.Count]float64 // per-feature anomaly score in [0,1], NaN unknown
	Forecast [features.Count]Forecast
	Horizon  time.Duration // how far ahead Forecast is
	Joint    float64       // joint anomaly score in [0,1], NaN unknown
}

// NewWindow returns a window with every value missing.
func NewWindow(startNs, endNs uint64) Window {
	w := Window{Joint: math.NaN()}
	w.Vector.StartNs, w.Vector.EndNs = startNs, endNs
	for i := range w.Vector.Values {
		w.Vector.Values[i] = math.NaN()
		w.Anomaly[i] = math.NaN()
		w.Forecast[i] = Forecast{math.NaN(), math.NaN(), math.NaN()}
	}
	return w
}

type windowEnv struct{ w *Window }

func (e windowEnv) Feature(id features.ID) float64 { return e.w.Vector.Values[id] }
func (e windowEnv) Anomaly(id features.ID) float64 { return e.w.Anomaly[id] }
func (e windowEnv) Joint() float64                 { return e.w.Joint }
func (e windowEnv) Time() uint64                   { return e.w.Vector.EndNs }

// Forecast at horizon h: the predictor's own horizon when h is 0 or equal
// to it; otherwise a straight line from the current value to the forecast,
// up to twice the predictor's horizon (further than that is not a
// forecast any more, and is unknown).
func (e windowEnv) Forecast(id features.ID, h time.Duration) (float64, float64, float64) {
	f := e.w.Forecast[id]
	H := e.w.Horizon
	if h == 0 || h == H {
		return f.Value, f.Lo, f.Hi
	}
	if H <= 0 || h > 2*H {
		return math.NaN(), math.NaN(), math.NaN()
	}
	cur := e.w.Vector.Values[id]
	r := float64(h) / float64(H)
	lerp := func(x float64) float64 { return cur + (x-cur)*r }
	return lerp(f.Value), lerp(f.Lo), lerp(f.Hi)
}
