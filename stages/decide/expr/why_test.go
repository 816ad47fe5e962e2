package expr

import (
	"math"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/features"
)

// fixedEnv has every feature at its value in vals (NaN when absent),
// anomaly scores in score.
type fixedEnv struct {
	vals, score map[features.ID]float64
}

func (e fixedEnv) get(m map[features.ID]float64, id features.ID) float64 {
	if v, ok := m[id]; ok {
		return v
	}
	return math.NaN()
}
func (e fixedEnv) Feature(id features.ID) float64 { return e.get(e.vals, id) }
func (e fixedEnv) Anomaly(id features.ID) float64 { return e.get(e.score, id) }
func (e fixedEnv) Forecast(id features.ID, _ time.Duration) (float64, float64, float64) {
	v := e.get(e.vals, id)
	return v, v - 1, v + 1
}
func (e fixedEnv) Joint() float64               { return 0.1 }
func (e fixedEnv) Alarm() float64               { return 0.85 }
func (e fixedEnv) Time() uint64                 { return 1 }
func (e fixedEnv) Plugin(string) float64        { return math.NaN() }
func (e fixedEnv) PluginAnomaly(string) float64 { return math.NaN() }
func (e fixedEnv) PluginForecast(string, time.Duration) (float64, float64, float64) {
	return math.NaN(), math.NaN(), math.NaN()
}

// WhyNot names the terms that are false or unknown, with their values,
// and only those.
func TestWhyNot(t *testing.T) {
	env := fixedEnv{vals: map[features.ID]float64{features.CPUBusyPct: 42, features.RunqLatencyP99Us: 3000},
		score: map[features.ID]float64{}}
	for _, c := range []struct{ cond, want string }{
		{"cpu > 90", "cpu_busy_pct > 90 is false [cpu_busy_pct=42]"},
		{"cpu > 90 and runq > 2000", "cpu_busy_pct > 90 is false [cpu_busy_pct=42]"},
		{"cpu > 90 or anomaly(blk_latency_p99_us) > 0.5",
			"cpu_busy_pct > 90 is false [cpu_busy_pct=42]; anomaly(blk_latency_p99_us) > 0.5 is unknown [anomaly(blk_latency_p99_us)=?]"},
		{"runq > 2000 for 5s", "runq_latency_p99_us > 2000 holds now, but must hold for 5s"},
		{"(cpu > 90 or runq > 5000) for 10s",
			"cpu_busy_pct > 90 is false [cpu_busy_pct=42]; runq_latency_p99_us > 5000 is false [runq_latency_p99_us=3000]"},
		{"not runq > 2000", "not (runq_latency_p99_us > 2000) is false [runq_latency_p99_us=3000]"},
		{"cpu / 2 + joint() >= 30", "((cpu_busy_pct / 2) + joint()) >= 30 is false [cpu_busy_pct=42, joint()=0.1]"},
		{"forecast(cpu, 10s) > 95", "forecast(cpu_busy_pct, 10s) > 95 is false [forecast(cpu_busy_pct, 10s)=42]"},
		{"runq > 2000", ""},
	} {
		p, err := Parse(c.cond)
		if err != nil {
			t.Fatalf("%s: %v", c.cond, err)
		}
		if got := p.WhyNot(env); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.cond, got, c.want)
		}
	}
}
