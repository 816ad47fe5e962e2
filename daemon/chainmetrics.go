package daemon

import (
	"fmt"
	"strings"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/view"
)

// thinking publishes what the chain thinks and does as metrics: each
// feature's anomaly score and forecast, the joint score (from predict's
// last output), the engine's state, the knobs held changed, and counts of
// decisions and actuations by outcome (from actuate's results).
type thinking struct {
	set      *metrics.Set
	score    [features.Count]*metrics.Gauge
	forecast [features.Count]*metrics.Gauge
	joint    *metrics.Gauge
	alarm    *metrics.Gauge
	driver   [features.Count]*metrics.Gauge
	ledger   knobLedger
}

// registerMetrics adds the chain's own metrics to its set and returns the
// wrappers that feed them.
func (c *Chain) registerMetrics() []Wrapper {
	set := c.Pipeline.Metrics()
	t := &thinking{set: set, joint: set.GetOrCreateGauge("ainka_joint_anomaly_score", nil),
		alarm: set.GetOrCreateGauge("ainka_host_alarm", nil)}
	for i := features.ID(0); i < features.Count; i++ {
		t.score[i] = set.GetOrCreateGauge(fmt.Sprintf(`ainka_anomaly_score{feature=%q}`, i.String()), nil)
		t.forecast[i] = set.GetOrCreateGauge(fmt.Sprintf(`ainka_forecast{feature=%q}`, i.String()), nil)
		t.driver[i] = set.GetOrCreateGauge(fmt.Sprintf(`ainka_host_alarm_driver{feature=%q}`, i.String()), nil)
	}
	set.GetOrCreateGauge("ainka_engine_state", func() float64 { return stateNumber(c.Decide.State().State) })
	set.GetOrCreateGauge("ainka_emergency", func() float64 {
		if c.Decide.State().Emergency {
			return 1
		}
		return 0
	})
	set.GetOrCreateGauge("ainka_knobs_changed", func() float64 { return float64(len(c.Actuate.Changes())) })
	set.RegisterMetricsWriter(t.ledger.write)
	set.RegisterMetricsWriter(c.writePluginMetrics)
	tunerGauges(set, c.Tune)
	return []Wrapper{
		WrapStage("predict", func(p pipeline.Processor[features.Vector, predict.Output]) pipeline.Processor[features.Vector, predict.Output] {
			return view.Observe(p, t.predicted)
		}),
		WrapStage("actuate", func(p pipeline.Processor[decide.Decision, actuate.Result]) pipeline.Processor[decide.Decision, actuate.Result] {
			return view.Observe(p, t.acted)
		}),
	}
}

// stateNumber is the engine state's number in decide's order (learning 0,
// optimizing 1, anomaly_detection 2, predictive_scaling 3, emergency 4);
// -1 for a name it does not know.
func stateNumber(name string) float64 {
	for s := decide.State(0); s.String() != "unknown"; s++ {
		if s.String() == name {
			return float64(s)
		}
	}
	return -1
}

func (t *thinking) predicted(outs []predict.Output) {
	if len(outs) == 0 {
		return
	}
	o := &outs[len(outs)-1]
	for i := range o.Score {
		t.score[i].Set(o.Score[i])
		t.forecast[i].Set(o.Forecast[i].Value)
		t.driver[i].Set(0)
	}
	t.joint.Set(o.Joint)
	t.alarm.Set(o.Alarm.Level)
	for _, d := range o.Alarm.Drivers[:o.Alarm.NDrivers] {
		t.driver[d].Set(1)
	}
}

// acted counts each result: decisions by policy, action and outcome, and
// actuations by the kind of knob (sysctl, cgroup, ...) and outcome.
func (t *thinking) acted(rs []actuate.Result) {
	for i := range rs {
		r := &rs[i]
		t.ledger.record(r)
		if r.Kind != decide.Apply && r.Kind != decide.Revert {
			continue // effect measurements and state changes are not decisions to act
		}
		t.set.GetOrCreateCounter(fmt.Sprintf(`ainka_decisions_total{policy="%s",action="%s",status="%s"}`,
			labelValue(r.Policy), labelValue(r.Action), r.Status)).Inc()
		kind, _, ok := strings.Cut(r.Knob, ":")
		if !ok {
			kind = "none"
		}
		t.set.GetOrCreateCounter(fmt.Sprintf(`ainka_actuations_total{kind="%s",status="%s"}`, labelValue(kind), r.Status)).Inc()
	}
}

// labelValue escapes a Prometheus label value: backslash, quote, newline
// (Go's %q escapes more, which the text format does not read back).
func labelValue(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
