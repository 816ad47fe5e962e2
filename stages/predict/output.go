package predict

import (
	"math"
	"strconv"

	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict/alarm"
	"github.com/ainka/ainka/stages/predict/forecast"
)

// Forecast is a feature's predicted value with its prediction interval.
type Forecast = forecast.Forecast

// MaxPluginScores bounds the scores of detector plugins one Output carries.
const MaxPluginScores = 16

// PluginScore is one score of a detector plugin (package plugins), named
// "PLUGIN.SCORE".
type PluginScore struct {
	Name  string
	Score float64
}

// Output is the stage's result for one window; doc.go describes each field.
type Output struct {
	Vector   features.Vector
	Score    [features.Count]float64
	Forecast [features.Count]Forecast
	Joint    float64
	// Alarm is the host-level alarm (package alarm): its level and the
	// features that drove it.
	Alarm alarm.Result
	// Entities are, per driver of the alarm, the task, device or network
	// namespace that showed it most (see Entity).
	Entities  [alarm.MaxDrivers]Entity
	HorizonNs uint64
	// NPlugin scores of detector plugins, written after the built-in
	// detectors by the plugins' wrapper of this stage.
	NPlugin int
	Plugin  [MaxPluginScores]PluginScore
	// ProbeScore and ProbeForecast are the anomaly scores and forecasts
	// of the probe plugins' features, Vector.Probe[:Vector.NumProbe].
	ProbeScore    [spec.MaxFeatures]float64
	ProbeForecast [spec.MaxFeatures]Forecast
}

// skip marks every score and forecast of o as unknown (NaN).
func (o *Output) skip() {
	nan := math.NaN()
	for i := range o.Score {
		o.Score[i] = nan
		o.Forecast[i] = Forecast{Value: nan, Lo: nan, Hi: nan}
	}
	for i := range o.ProbeScore {
		o.ProbeScore[i] = nan
		o.ProbeForecast[i] = Forecast{Value: nan, Lo: nan, Hi: nan}
	}
	o.Joint = nan
	o.Alarm = alarm.Result{Level: nan}
}

// AppendJSON appends the output as one JSON object (no newline): keys in a
// fixed order, features in ID order, floats in strconv 'g' -1 form, NaN and
// ±Inf as null.
//
//	{"start_ns":..,"end_ns":..,"horizon_ns":..,"joint_score":..,"alarm":..,
//	 "drivers":["FEATURE",..],"features":
//	 {"syscalls_per_s":{"value":..,"score":..,"forecast":..,"lo":..,"hi":..},..}
//	 ,"plugins":{"pressure.pressure_surge":..,..}}
//
// "plugins" is there only when detector plugins scored the window.
func (o *Output) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"start_ns":`...)
	dst = strconv.AppendUint(dst, o.Vector.StartNs, 10)
	dst = append(dst, `,"end_ns":`...)
	dst = strconv.AppendUint(dst, o.Vector.EndNs, 10)
	dst = append(dst, `,"horizon_ns":`...)
	dst = strconv.AppendUint(dst, o.HorizonNs, 10)
	dst = append(dst, `,"joint_score":`...)
	dst = appendFloat(dst, o.Joint)
	dst = append(dst, `,"alarm":`...)
	dst = appendFloat(dst, o.Alarm.Level)
	dst = append(dst, `,"drivers":[`...)
	for i, d := range o.Alarm.Drivers[:o.Alarm.NDrivers] {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, d.String()...)
		dst = append(dst, '"')
	}
	dst = append(dst, ']')
	if o.Alarm.NDrivers > 0 {
		dst = append(dst, `,"entities":[`...)
		for k := range o.Alarm.Drivers[:o.Alarm.NDrivers] {
			if k > 0 {
				dst = append(dst, ',')
			}
			if o.Entities[k].Kind == EntityNone {
				dst = append(dst, "null"...)
				continue
			}
			dst = append(dst, '"')
			dst = o.Entities[k].AppendText(dst)
			dst = append(dst, '"')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"features":{`...)
	for i := features.ID(0); i < features.Count; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, i.String()...)
		dst = append(dst, `":`...)
		dst = appendScored(dst, o.Vector.Values[i], o.Score[i], o.Forecast[i])
	}
	dst = append(dst, '}')
	dst = o.appendProbesJSON(dst)
	if o.NPlugin > 0 {
		dst = append(dst, `,"plugins":{`...)
		for i, p := range o.Plugin[:o.NPlugin] {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendQuote(dst, p.Name)
			dst = append(dst, ':')
			dst = appendFloat(dst, p.Score)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendScored appends {"value":..,"score":..,"forecast":..,"lo":..,"hi":..}.
func appendScored(dst []byte, value, score float64, f Forecast) []byte {
	dst = append(dst, `{"value":`...)
	dst = appendFloat(dst, value)
	dst = append(dst, `,"score":`...)
	dst = appendFloat(dst, score)
	dst = append(dst, `,"forecast":`...)
	dst = appendFloat(dst, f.Value)
	dst = append(dst, `,"lo":`...)
	dst = appendFloat(dst, f.Lo)
	dst = append(dst, `,"hi":`...)
	dst = appendFloat(dst, f.Hi)
	return append(dst, '}')
}

func appendFloat(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}
