package decide

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

// An Optimize request answers for every policy: matched with its values,
// or the false term, the cooldown, the action already applied, the
// learning state, disabled.
func TestOptimizeChecks(t *testing.T) {
	s := newStage(t, Config{EvalInterval: time.Hour, LearningDuration: time.Hour},
		Policy{Name: "busy", Condition: "cpu > 50", Action: "sysctl vm.swappiness -= 1", Cooldown: time.Minute, Enabled: true},
		Policy{Name: "set", Condition: "cpu > 50", Action: "sysctl vm.dirty_ratio = 10", Enabled: true},
		Policy{Name: "cold", Condition: "cpu > 95 and runq > 100", Action: "sysctl vm.dirty_background_ratio = 5", Enabled: true},
		Policy{Name: "odd", Condition: "anomaly(cpu_busy_pct) > 0.5", Action: "sysctl vm.vfs_cache_pressure = 50", Enabled: true},
		Policy{Name: "off", Condition: "cpu > 50", Action: "sysctl vm.stat_interval = 2"})
	hot := func(t uint64) []predict.Output {
		return []predict.Output{win(t, map[features.ID]float64{features.CPUBusyPct: 90, features.RunqLatencyP99Us: 50}, 0.1)}
	}
	checks := func(at uint64) map[string]Check {
		t.Helper()
		req, err := s.Optimize(at)
		if err != nil {
			t.Fatal(err)
		}
		s.Process(hot(at*sec), nil)
		if _, err := req.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		m := map[string]Check{}
		for _, c := range req.Checks() {
			m[c.Policy] = c
		}
		return m
	}
	// The first window is evaluated by the cadence: a cool one.
	s.Process([]predict.Output{win(sec, map[features.ID]float64{features.CPUBusyPct: 20}, 0.1)}, nil)
	first := checks(2)
	second := checks(3)
	for _, c := range []struct {
		got     Check
		matched bool
		why     string
	}{
		{first["busy"], true, "cpu > 50 [cpu_busy_pct=90]"},
		{first["set"], true, "cpu > 50 [cpu_busy_pct=90]"},
		{first["cold"], false, "cpu_busy_pct > 95 is false [cpu_busy_pct=90]; runq_latency_p99_us > 100 is false [runq_latency_p99_us=50]"},
		{first["odd"], false, "reads anomaly scores or forecasts: waits until learning ends"},
		{first["off"], false, "disabled"},
		{second["busy"], false, "condition holds; in cooldown for 59s more"},
		{second["set"], false, "condition holds; its action is applied already"},
	} {
		if c.got.Matched != c.matched || !strings.HasPrefix(c.got.Why, c.why) {
			t.Errorf("%s: matched %v, %q; want %v, %q", c.got.Policy, c.got.Matched, c.got.Why, c.matched, c.why)
		}
	}
}
