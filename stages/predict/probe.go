package predict

import (
	"strconv"

	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/predict/anomaly"
	"github.com/ainka/ainka/stages/predict/forecast"
)

// probeModels are the anomaly detectors and forecasters of the probe
// plugins' features (features.Vector.Probe), with the built-in features'
// parameters. They are kept beside the model file by feature name
// (probemodel.go), not by index: plugins come and go between runs, and a
// model of another plugin's feature at the same index would be wrong.
type probeModels struct {
	det [spec.MaxFeatures]anomaly.Detector
	fc  [spec.MaxFeatures]forecast.Forecaster
	// set is the plugin kinds the models are of (nil: none seen yet);
	// saved holds the models loaded from the file (or of plugins that
	// did not run), by feature name, until a set names them.
	set     *spec.Set
	saved   map[string]probeModel
	horizon int // of the forecasters, in windows
}

func (m *probeModels) init(dp anomaly.Params, fp forecast.Params, freeze bool, horizon int) {
	m.set, m.saved, m.horizon = nil, nil, horizon
	for i := range m.det {
		m.det[i].Init(dp)
		m.det[i].Freeze(freeze)
		m.fc[i].Init(fp)
		m.fc[i].Freeze(freeze)
	}
}

// update scores and forecasts the window's probe features into o.
func (m *probeModels) update(o *Output, b int32) {
	v := &o.Vector
	if v.Probes != m.set && v.Probes != nil { // the first window, or a new set of plugins
		m.bind(v.Probes)
	}
	for i := 0; i < v.NumProbe; i++ {
		x := v.Probe[i]
		o.ProbeScore[i] = m.det[i].UpdateAt(x, b)
		o.ProbeForecast[i] = m.fc[i].Update(x)
	}
}

func (m *probeModels) commit() {
	for i := range m.det {
		m.det[i].Commit()
	}
}

// appendProbesJSON appends ,"probes":{"PLUGIN.FEATURE":{"value":..,
// "score":..,"forecast":..,"lo":..,"hi":..},..} when the window has probe
// features.
func (o *Output) appendProbesJSON(dst []byte) []byte {
	v := &o.Vector
	if v.NumProbe == 0 {
		return dst
	}
	dst = append(dst, `,"probes":{`...)
	for i, name := range v.ProbeNames() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, name)
		dst = append(dst, ':')
		dst = appendScored(dst, v.Probe[i], o.ProbeScore[i], o.ProbeForecast[i])
	}
	return append(dst, '}')
}
