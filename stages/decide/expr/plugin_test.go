package expr

import (
	"strings"
	"testing"
	"time"
)

// TestPluginNames: a condition names a plugin's feature or score as
// PLUGIN.NAME, alone or in anomaly() and forecast*(); a name no plugin
// has is unknown, so the condition never fires on it.
func TestPluginNames(t *testing.T) {
	e := newEnv()
	e.plugin = map[string]float64{"signals.signals_per_s": 200, "anomaly:signals.signals_per_s": 0.99, "pressure.cpu_starved": 0.31}
	evalCases(t, e, []evalCase{
		{"signals.signals_per_s > 100", True},
		{"Signals.Signals_per_s>100", True},
		{"pressure.cpu_starved >= 0.3 and signals.signals_per_s / 2 == 100", True},
		{"anomaly(signals.signals_per_s) > 0.95", True},
		{"forecast(signals.signals_per_s, 30s) == 400", True},
		{"forecast_hi(signals.signals_per_s) == 401 and forecast_lo(signals.signals_per_s) == 399", True},
		{"gone.feature > 1", Unknown},
		{"not (gone.feature > 1)", Unknown},
		{"anomaly(pressure.cpu_starved) > 0", Unknown},
	})
	p, _ := Parse("forecast(signals.signals_per_s, 30s) > 1")
	p.Eval(e, nil)
	if e.horizon != 30*time.Second {
		t.Errorf("horizon %v, want 30s", e.horizon)
	}
	p, _ = Parse("anomaly(signals.signals_per_s) > 0.5 and pressure.cpu_starved > 0")
	var refs []string
	for _, r := range p.Refs() {
		refs = append(refs, r.Name)
	}
	if strings.Join(refs, ",") != "anomaly(signals.signals_per_s),pressure.cpu_starved" || !p.UsesAnomaly() {
		t.Errorf("refs %v, uses anomaly %v", refs, p.UsesAnomaly())
	}
}

// TestPluginNameErrors: a bad plugin name is refused at its column.
func TestPluginNameErrors(t *testing.T) {
	long := strings.Repeat("a", 33)
	for _, c := range []struct{ src, want string }{
		{"x._y > 1", `1:1: plugin name "x._y": want PLUGIN.NAME`},
		{"cpu > 1 and _x.y > 1", `1:13: plugin name "_x.y": want PLUGIN.NAME`},
		{long + ".y > 1", "want PLUGIN.NAME, each 1-32 of a-z"},
		{"anomaly(x." + long + ") > 1", "1:9: plugin name"},
		{"signals.rate. > 1", `unexpected character '.'`},
		{"signals. > 1", `unexpected character '.'`},
		{"forecast(signals.rate, soon) > 1", `1:24: forecast horizon must be a positive duration like 30s, got "soon"`},
		{"forecast(signals.rate, 0s) > 1", "forecast horizon must be a positive duration"},
		{"signals.rate(1) > 1", `unknown function "signals.rate"`},
	} {
		_, err := Parse(c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want %q", c.src, err, c.want)
		}
	}
}
