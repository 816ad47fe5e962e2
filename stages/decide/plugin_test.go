package decide

import (
	"testing"
	"time"

	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

// pluginWindow is a window with the probe plugin feature
// signals.signals_per_s (value, anomaly score, forecast) and the detector
// plugin score pressure.cpu_starved.
func pluginWindow(t *testing.T, end uint64, rate, score, starved float64) predict.Output {
	t.Helper()
	set, err := spec.NewSet([]spec.Kind{{Kind: spec.KindBase, Name: "signals", Size: spec.HeaderSize, Key: -1,
		Features: []spec.Feature{{Name: "signals_per_s", Op: spec.OpRate, Field: -1}}}})
	if err != nil {
		t.Fatal(err)
	}
	w := win(end, map[features.ID]float64{features.CPUBusyPct: 10}, 0.1)
	w.Vector.Probes, w.Vector.NumProbe = set, 1
	w.Vector.Probe[0], w.ProbeScore[0] = rate, score
	w.ProbeForecast[0] = predict.Forecast{Value: rate * 2, Lo: rate, Hi: rate * 3}
	w.HorizonNs = uint64(30 * time.Second)
	w.Plugin[0], w.NPlugin = predict.PluginScore{Name: "pressure.cpu_starved", Score: starved}, 1
	return w
}

// TestPolicyOnPluginOutputs: policies whose conditions name a probe
// plugin's feature, its anomaly score and forecast, and a detector
// plugin's score fire through decide, with the values they read in the
// decision; a name no plugin has is unknown and never fires.
func TestPolicyOnPluginOutputs(t *testing.T) {
	s := newStage(t, Config{},
		Policy{Name: "rate", Condition: "signals.signals_per_s > 100 for 2s", Action: "notify", Enabled: true, Cooldown: time.Hour},
		Policy{Name: "anom", Condition: "anomaly(signals.signals_per_s) > 0.9", Action: "notify", Enabled: true, Cooldown: time.Hour},
		Policy{Name: "fc", Condition: "forecast_hi(signals.signals_per_s) > 500", Action: "notify", Enabled: true, Cooldown: time.Hour},
		Policy{Name: "starved", Condition: "pressure.cpu_starved >= 0.5", Action: "notify", Enabled: true, Cooldown: time.Hour},
		Policy{Name: "gone", Condition: "gone.x > 0 or not (gone.x > 0)", Action: "notify", Enabled: true})
	fired := map[string]uint64{}
	for i := uint64(1); i <= 6; i++ {
		rate, score, starved := 50.0, 0.1, 0.2
		if i >= 3 {
			rate, score, starved = 200, 0.95, 0.7
		}
		for _, d := range s.Process([]predict.Output{pluginWindow(t, i*sec, rate, score, starved)}, nil) {
			if d.Kind == Apply {
				if _, ok := fired[d.Policy]; !ok {
					fired[d.Policy] = i
				}
				if d.Policy == "rate" && (d.NValues != 1 || d.Values[0].Name != "signals.signals_per_s" || d.Values[0].Value != 200) {
					t.Errorf("rate's values: %+v", d.Values[:d.NValues])
				}
			}
		}
	}
	// rate: true from 3, for 2s: 5; the others at 3; gone: never.
	if fired["rate"] != 5 || fired["anom"] != 3 || fired["fc"] != 3 || fired["starved"] != 3 || len(fired) != 4 {
		t.Errorf("fired at %v", fired)
	}
}
