package expr

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/features"
)

type env struct {
	f, a, fc [features.Count]float64
	joint    float64
	alarm    float64
	now      uint64
	horizon  time.Duration
	plugin   map[string]float64 // PLUGIN.NAME, and "anomaly:PLUGIN.NAME"
}

func newEnv() *env {
	e := &env{joint: math.NaN(), alarm: math.NaN()}
	for i := range e.f {
		e.f[i], e.a[i], e.fc[i] = math.NaN(), math.NaN(), math.NaN()
	}
	return e
}
func (e *env) Feature(id features.ID) float64 { return e.f[id] }
func (e *env) Anomaly(id features.ID) float64 { return e.a[id] }
func (e *env) Forecast(id features.ID, h time.Duration) (float64, float64, float64) {
	e.horizon = h
	return e.fc[id], e.fc[id] - 1, e.fc[id] + 1
}
func (e *env) Joint() float64 { return e.joint }
func (e *env) Alarm() float64 { return e.alarm }
func (e *env) Time() uint64   { return e.now }
func (e *env) Plugin(name string) float64 {
	if v, ok := e.plugin[name]; ok {
		return v
	}
	return math.NaN()
}
func (e *env) PluginAnomaly(name string) float64 { return e.Plugin("anomaly:" + name) }
func (e *env) PluginForecast(name string, h time.Duration) (float64, float64, float64) {
	e.horizon = h
	v := e.Plugin(name) * 2
	return v, v - 1, v + 1
}

type evalCase struct {
	src  string
	want Tri
}

// evalCases parses and evaluates each case on e.
func evalCases(t *testing.T, e Env, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		p, err := Parse(c.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.src, err)
		}
		if got := p.Eval(e, p.NewState()); got != c.want {
			t.Errorf("%q = %v, want %v", c.src, got, c.want)
		}
	}
}

func TestEval(t *testing.T) {
	e := newEnv()
	e.f[features.CPUBusyPct] = 95
	e.f[features.RunqLatencyP99Us] = 1500
	e.a[features.BlkLatencyP99Us] = 0.97
	e.fc[features.CPUBusyPct] = 80
	e.joint = 0.5
	e.alarm = 0.85
	evalCases(t, e, []evalCase{
		{"cpu>90", True},
		{"cpu>90%", True},
		{"cpu_busy_pct <= 90", False},
		{"anomaly(blk_latency_p99_us) > 0.95", True},
		{"forecast(cpu_busy_pct, 30s) > 90", False},
		{"forecast_hi(cpu_busy_pct) >= 81", True},
		{"runq_latency_p99_us / 1000 + 1 == 2.5", True},
		{"-cpu < -90 and not (cpu < 50)", True},
		{"cpu > 90 && runq > 2000 || joint() > 0.4", True},
		{"alarm() >= 0.8 and joint() < 0.8", True},
		{"abs(cpu - 100) < 10 and max(cpu, 99) == 99 and min(1, 2) == 1", True},
		// missing feature: comparison unknown, not does not turn it true
		{"psi_cpu_some_pct > 5", Unknown},
		{"not (psi_cpu_some_pct > 5)", Unknown},
		{"psi_cpu_some_pct > 5 and cpu < 10", False},
		{"psi_cpu_some_pct > 5 or cpu > 10", True},
		{"cpu / 0 > 1", Unknown},
		{"true and not false", True},
		{"1e3 < runq", True},
	})
	p, _ := Parse("forecast(cpu_busy_pct, 30s) > 1")
	p.Eval(e, nil)
	if e.horizon != 30*time.Second {
		t.Errorf("horizon = %v, want 30s", e.horizon)
	}
	if !p.UsesForecast() || p.UsesAnomaly() {
		t.Errorf("UsesForecast/UsesAnomaly wrong")
	}
}

func TestFor(t *testing.T) {
	p, err := Parse("runq_latency_p99_us > 2000 for 5s")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv()
	st := p.NewState()
	step := func(sec int, v float64) Tri {
		e.now = uint64(sec) * uint64(time.Second)
		e.f[features.RunqLatencyP99Us] = v
		return p.Eval(e, st)
	}
	seq := []struct {
		sec  int
		v    float64
		want Tri
	}{
		{1, 3000, False}, {2, 3000, False}, {5, 3000, False}, {6, 3000, True}, {7, 3000, True},
		{8, 100, False}, {9, 3000, False}, {13, 3000, False}, {14, 3000, True},
		{15, math.NaN(), Unknown}, {16, 3000, False},
	}
	for _, s := range seq {
		if got := step(s.sec, s.v); got != s.want {
			t.Fatalf("t=%ds v=%v: got %v want %v", s.sec, s.v, got, s.want)
		}
	}
	if p.MaxFor() != 5*time.Second {
		t.Errorf("MaxFor = %v", p.MaxFor())
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		src       string
		line, col int
		msg       string
	}{
		{"", 1, 1, "empty condition"},
		{"cpux > 90", 1, 1, `unknown feature "cpux" (did you mean "cpu"?)`},
		{"cpu > ", 1, 7, "ends too early"},
		{"cpu = 90", 1, 5, `use "=="`},
		{"cpu > 90 for", 1, 13, `"for" needs a duration`},
		{"cpu > 90 for 5", 1, 14, `"for" needs a duration`},
		{"cpu > 90 for 5y", 1, 15, `unknown unit "y"`},
		{"cpu + 1", 1, 1, "condition is a number"},
		{"cpu > 1 > 2", 1, 9, "do not chain"},
		{"(cpu > 1", 1, 9, `expected ")"`},
		{"cpu > 1)", 1, 8, "unexpected"},
		{"cpu > 1 and\n  runq $ 5", 2, 8, "unexpected character '$'"},
		{"foo(cpu) > 1", 1, 1, `unknown function "foo"`},
		{"anomaly(nope) > 1", 1, 9, `unknown feature "nope"`},
		{"forecast(cpu, x) > 1", 1, 15, "forecast horizon"},
		{"cpu > 5s", 1, 7, "only allowed after"},
		{"not cpu", 1, 5, "not needs a truth value"},
		{"cpu > 1 and 5", 1, 13, "needs a truth value"},
		{"(cpu > 1) + 1 > 0", 1, 1, "needs a number"},
		{"cpu > 1 and and", 1, 13, "unexpected"},
		{"cpu_busy_pct(1) > 1", 1, 1, "is a feature, not a function"},
		{"min(cpu 1) > 0", 1, 9, `expected ","`},
	}
	for _, c := range cases {
		_, err := Parse(c.src)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want *Error", c.src, err)
			continue
		}
		if pe.Line != c.line || pe.Col != c.col || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("Parse(%q) = %v, want %d:%d: ...%s...", c.src, err, c.line, c.col, c.msg)
		}
	}
}

func TestRefs(t *testing.T) {
	p, err := Parse("cpu > 90 and anomaly(cpu) > 0.5 and cpu_busy_pct < 99 and forecast(nr_running, 10s) > 1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range p.Refs() {
		names = append(names, r.Name)
	}
	want := "cpu_busy_pct,anomaly(cpu_busy_pct),forecast(nr_running, 10s)"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("refs = %s, want %s", got, want)
	}
}

func TestEvalAllocs(t *testing.T) {
	p, _ := Parse("runq_latency_p99_us > 2000 for 5s and (anomaly(cpu) > 0.9 or forecast(cpu, 30s) > 90)")
	e := newEnv()
	st := p.NewState()
	if n := testing.AllocsPerRun(100, func() { e.now++; p.Eval(e, st) }); n != 0 {
		t.Errorf("Eval allocates %v times", n)
	}
}

func BenchmarkEval(b *testing.B) {
	p, _ := Parse("runq_latency_p99_us > 2000 for 5s and (anomaly(cpu) > 0.9 or forecast(cpu, 30s) > 90)")
	e := newEnv()
	e.f[features.RunqLatencyP99Us] = 3000
	st := p.NewState()
	for i := 0; i < b.N; i++ {
		e.now += 1000
		p.Eval(e, st)
	}
}
