package decide

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const sec = uint64(time.Second)

func win(t uint64, set map[features.ID]float64, joint float64) predict.Output {
	w := NewWindow(t-sec, t)
	for id, v := range set {
		w.Vector.Values[id] = v
	}
	w.Joint = joint
	w.Alarm.Level = joint // the state machine follows the host alarm
	return w
}

func newStage(t *testing.T, cfg Config, ps ...Policy) *Stage {
	t.Helper()
	cfg.Logger = quiet
	if cfg.LearningDuration == 0 {
		cfg.LearningDuration = -1
	}
	if cfg.EvalInterval == 0 {
		cfg.EvalInterval = -1
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := s.AddPolicy(p); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// kinds lists the decisions other than state changes.
func kinds(ds []Decision) string {
	var b []string
	for _, d := range ds {
		if d.Kind == StateChange {
			continue
		}
		b = append(b, d.Kind.String()+":"+d.Policy)
	}
	return strings.Join(b, ",")
}

func applies(ds []Decision) int {
	n := 0
	for _, d := range ds {
		if d.Kind == Apply {
			n++
		}
	}
	return n
}

func TestForAndCooldown(t *testing.T) {
	s := newStage(t, Config{}, Policy{Name: "runq", Condition: "runq_latency_p99_us > 2000 for 3s",
		Action: "sysctl vm.swappiness -= 5", Enabled: true, Cooldown: 10 * time.Second, Priority: 10})
	var fired []uint64
	for i := uint64(1); i <= 30; i++ {
		out := s.Process([]predict.Output{win(i*sec, map[features.ID]float64{features.RunqLatencyP99Us: 5000}, 0.1)}, nil)
		for _, d := range out {
			if d.Kind == Apply {
				fired = append(fired, i)
				if d.NValues != 1 || d.Values[0].Name != "runq_latency_p99_us" || d.Values[0].Value != 5000 {
					t.Errorf("values %+v", d.Values[:d.NValues])
				}
			}
		}
	}
	// true from t=1; for 3s -> t=4; cooldown 10s -> 14, 24
	if got := len(fired); got != 3 || fired[0] != 4 || fired[1] != 14 || fired[2] != 24 {
		t.Errorf("fired at %v, want [4 14 24]", fired)
	}
}

func TestPriorityWinsKnob(t *testing.T) {
	s := newStage(t, Config{},
		Policy{Name: "low", Condition: "cpu > 50", Action: "cgroup hogs cpu.weight = 50", Enabled: true, Priority: 10},
		Policy{Name: "high", Condition: "cpu > 50", Action: "cgroup hogs cpu.weight = 10", Enabled: true, Priority: 90})
	out := s.Process([]predict.Output{win(sec, map[features.ID]float64{features.CPUBusyPct: 99}, 0.1)}, nil)
	if kinds(out) != "apply:high" {
		t.Fatalf("decisions %s, want apply:high", kinds(out))
	}
	st := s.Policies()
	if st[0].Name != "high" || st[1].Suppressed != 1 || len(st[1].Conflicts) != 1 || st[1].Conflicts[0] != "high" {
		t.Errorf("status %+v", st)
	}
	// the high one holds the knob: the low one stays suppressed
	out = s.Process([]predict.Output{win(40*sec, map[features.ID]float64{features.CPUBusyPct: 99}, 0.1)}, nil)
	if applies(out) != 0 {
		t.Errorf("decisions %s, want none", kinds(out))
	}
}

func TestEqualPriorityConflictRejected(t *testing.T) {
	s := newStage(t, Config{}, Policy{Name: "a", Condition: "cpu > 50", Action: "sysctl vm.swappiness = 10", Enabled: true, Priority: 5})
	err := s.AddPolicy(Policy{Name: "b", Condition: "cpu > 60", Action: "sysctl vm.swappiness = 60", Enabled: true, Priority: 5})
	if !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), "both change sysctl:vm.swappiness") {
		t.Fatalf("err = %v", err)
	}
	// same change is not a conflict
	if err := s.AddPolicy(Policy{Name: "c", Condition: "cpu > 60", Action: "sysctl vm.swappiness = 10", Enabled: true, Priority: 5}); err != nil {
		t.Fatal(err)
	}
}

// effectScenario fires a policy at t=10s and then lets the objective
// drop by drop (relative) from 1000 with some noise.
func effectScenario(t *testing.T, threshold, drop float64) (*Stage, []Decision) {
	s := newStage(t, Config{EffectivenessThreshold: threshold, SettleTime: time.Second, EffectWindow: 5 * time.Second},
		Policy{Name: "weights", Condition: "cpu > 90", Action: "cgroup hogs cpu.weight = 10", Enabled: true, Priority: 10,
			Objective: "minimize runq_latency_p99_us"})
	var all []Decision
	for i := uint64(1); i <= 30; i++ {
		cpu := 50.0
		if i >= 10 {
			cpu = 95
		}
		lat := 1000.0 + 20*math.Sin(float64(i))
		if i > 10 {
			lat *= 1 - drop
		}
		all = s.Process([]predict.Output{win(i*sec, map[features.ID]float64{features.CPUBusyPct: cpu, features.RunqLatencyP99Us: lat}, 0.1)}, all)
	}
	return s, all
}

func TestEffectivenessThreshold(t *testing.T) {
	// the action halves the latency: effective under both thresholds
	s, all := effectScenario(t, 0.05, 0.5)
	if got := kinds(all); got != "apply:weights,effect:weights" {
		t.Fatalf("decisions %s", got)
	}
	if st := s.Policies()[0]; st.State != "active" || st.Effectiveness < 0.4 {
		t.Errorf("status %+v", st)
	}
	// a 10% drop passes a 0.05 threshold and fails a 0.5 one
	s, _ = effectScenario(t, 0.05, 0.1)
	if st := s.Policies()[0]; st.State != "active" {
		t.Errorf("threshold 0.05: state %s (%s)", st.State, st.PausedReason)
	}
	s, all = effectScenario(t, 0.5, 0.1)
	if got := kinds(all); got != "apply:weights,effect:weights,revert:weights" {
		t.Fatalf("decisions %s", got)
	}
	st := s.Policies()[0]
	if st.State != "paused" || !strings.Contains(st.PausedReason, "ineffective") {
		t.Errorf("status %+v", st)
	}
	// no change at all: noise only, score 0, paused under 0.05
	s, _ = effectScenario(t, 0.05, 0)
	if st := s.Policies()[0]; st.State != "paused" || st.Effectiveness != 0 {
		t.Errorf("no effect: %+v", st)
	}
}

func TestDriftGuard(t *testing.T) {
	// the objective was already falling at the same rate before the
	// action: no credit for the action
	s := newStage(t, Config{EffectivenessThreshold: 0.05, SettleTime: time.Second, EffectWindow: 5 * time.Second},
		Policy{Name: "p", Condition: "cpu > 90", Action: "readahead vda = 256", Enabled: true, Objective: "blk_latency_p99_us"})
	for i := uint64(1); i <= 30; i++ {
		cpu := 50.0
		if i >= 10 {
			cpu = 95
		}
		s.Process([]predict.Output{win(i*sec, map[features.ID]float64{features.CPUBusyPct: cpu, features.BlkLatencyP99Us: 5000 - 100*float64(i)}, 0.1)}, nil)
	}
	if st := s.Policies()[0]; st.State != "paused" || st.Effectiveness > 0.05 {
		t.Errorf("drifting objective credited: %+v", st)
	}
}

func TestFlapping(t *testing.T) {
	s := newStage(t, Config{FlapCount: 3},
		Policy{Name: "up", Condition: "cpu > 50", Action: "sysctl vm.swappiness = 60", Enabled: true, Priority: 60, RevertAfter: time.Second, Cooldown: time.Second},
		Policy{Name: "down", Condition: "cpu <= 50", Action: "sysctl vm.swappiness = 10", Enabled: true, Priority: 40, RevertAfter: time.Second, Cooldown: time.Second})
	for i := uint64(1); i <= 40; i++ {
		cpu := 90.0
		if (i/3)%2 == 1 {
			cpu = 10
		}
		s.Process([]predict.Output{win(i*sec, map[features.ID]float64{features.CPUBusyPct: cpu}, 0.1)}, nil)
	}
	st := s.Policies()
	if st[0].Name != "up" || st[0].State == "paused" {
		t.Errorf("higher priority paused: %+v", st[0])
	}
	if st[1].State != "paused" || !strings.Contains(st[1].PausedReason, "flapping") {
		t.Errorf("lower priority not paused for flapping: %+v", st[1])
	}
}

func TestEmergency(t *testing.T) {
	s := newStage(t, Config{EmergencyThreshold: 0.7, StateHold: 3 * time.Second, EvalInterval: 5 * time.Second},
		Policy{Name: "normal", Condition: "cpu > 50", Action: "notify", Enabled: true, Cooldown: time.Nanosecond},
		Policy{Name: "panic", Condition: "cpu > 50", Action: "notify", Enabled: true, Emergency: true, Cooldown: time.Nanosecond})
	run := func(from, to uint64, joint float64) []Decision {
		var out []Decision
		for i := from; i <= to; i++ {
			out = s.Process([]predict.Output{win(i*sec, map[features.ID]float64{features.CPUBusyPct: 90}, joint)}, out)
		}
		return out
	}
	out := run(1, 10, 0.5) // optimizing: evaluation every 5s
	if n := applies(out); n != 2*2 {
		t.Errorf("normal cadence: %d applies (%s)", n, kinds(out))
	}
	out = run(11, 16, 0.75) // emergency at 0.75 ≥ 0.7: only "panic", every window
	if s.State().State != "emergency" || out[0].Kind != StateChange || out[0].State != Emergency {
		t.Fatalf("state %s, decisions %s", s.State().State, kinds(out))
	}
	if n := applies(out); n != 6 || strings.Contains(kinds(out), "apply:normal") {
		t.Errorf("emergency: %s", kinds(out))
	}
	run(17, 18, 0.65) // inside the hysteresis band: stay
	if s.State().State != "emergency" {
		t.Errorf("left emergency inside the hysteresis band")
	}
	run(19, 25, 0.3)
	if s.State().State != "optimizing" {
		t.Errorf("state %s, want optimizing after the hold", s.State().State)
	}
	// with a higher threshold the same score is no emergency
	s2 := newStage(t, Config{EmergencyThreshold: 0.8})
	s2.Process([]predict.Output{win(sec, nil, 0.75)}, nil)
	if s2.State().Emergency {
		t.Errorf("0.75 is an emergency under threshold 0.8")
	}
	// manual
	s2.SetEmergency(true)
	out = s2.Process([]predict.Output{win(2*sec, nil, 0.1)}, nil)
	if !s2.State().Emergency || len(out) != 1 || out[0].State != Emergency {
		t.Errorf("manual emergency: %+v %s", s2.State(), kinds(out))
	}
	s2.SetEmergency(false)
	s2.Process([]predict.Output{win(3*sec, nil, 0.1)}, nil)
	if s2.State().Emergency {
		t.Errorf("manual off ignored")
	}
}

func TestLearningSkipsPredictivePolicies(t *testing.T) {
	s := newStage(t, Config{LearningDuration: 10 * time.Second},
		Policy{Name: "anom", Condition: "anomaly(cpu) > 0.5", Action: "notify", Enabled: true},
		Policy{Name: "plain", Condition: "cpu > 50", Action: "notify", Enabled: true})
	w := win(sec, map[features.ID]float64{features.CPUBusyPct: 90}, 0.1)
	w.Score[features.CPUBusyPct] = 0.9
	out := s.Process([]predict.Output{w}, nil)
	if kinds(out) != "apply:plain" {
		t.Errorf("learning: %s", kinds(out))
	}
	w2 := w
	w2.Vector.EndNs = 20 * sec
	out = s.Process([]predict.Output{w2}, nil)
	if s.State().State != "optimizing" || !strings.Contains(kinds(out), "apply:anom") {
		t.Errorf("after learning: %s %s", s.State().State, kinds(out))
	}
}

func TestMaxPolicies(t *testing.T) {
	s := newStage(t, Config{MaxPolicies: 2})
	for i, n := range []string{"a", "b", "c"} {
		err := s.AddPolicy(Policy{Name: n, Condition: "cpu > 1", Action: "notify", Enabled: true})
		if (i < 2) != (err == nil) {
			t.Errorf("policy %d: %v", i, err)
		}
		if i == 2 && !errors.Is(err, ErrTooManyPolicies) {
			t.Errorf("err = %v", err)
		}
	}
	if err := s.RemovePolicy("zz"); !errors.Is(err, ErrUnknownPolicy) {
		t.Errorf("remove unknown: %v", err)
	}
}

func TestRemoveRevertsActive(t *testing.T) {
	s := newStage(t, Config{}, Policy{Name: "a", Condition: "cpu > 1", Action: "sysctl vm.swappiness = 10", Enabled: true})
	s.Process([]predict.Output{win(sec, map[features.ID]float64{features.CPUBusyPct: 90}, 0.1)}, nil)
	if err := s.RemovePolicy("a"); err != nil {
		t.Fatal(err)
	}
	out := s.Process([]predict.Output{win(2*sec, nil, 0.1)}, nil)
	if kinds(out) != "revert:a" || out[0].TimeNs != 2*sec {
		t.Errorf("%s", kinds(out))
	}
}

const goodFile = `
[[policy]]
name = "hogs"
condition = "runq_latency_p99_us > 2000 for 5s"
action = "cgroup ainka/hogs cpu.weight = 20"
priority = 80
cooldown = "10s"
objective = "runq_latency_p99_us"
`

func TestReloadAndWatch(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "p.toml")
	if err := os.WriteFile(f, []byte(goodFile), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newStage(t, Config{PolicyFile: f, UpdateInterval: 20 * time.Millisecond})
	if n := len(s.Policies()); n != 1 {
		t.Fatalf("%d policies", n)
	}
	// a bad file keeps the old policies and reports the error
	os.WriteFile(f, []byte(goodFile+"\n[[policy]]\nname = \"x\"\ncondition = \"cpu >\"\naction = \"notify\"\n"), 0o644)
	err := s.Reload()
	if err == nil || !strings.Contains(err.Error(), "p.toml:12:") {
		t.Fatalf("err = %v", err)
	}
	if len(s.Policies()) != 1 || !strings.Contains(s.State().LastReloadError, "ends too early") {
		t.Errorf("old policies not kept: %+v", s.State())
	}
	// Watch picks up a good change
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Watch(ctx)
	os.WriteFile(f, []byte(goodFile+"\n[[policy]]\nname = \"y\"\ncondition = \"cpu > 1\"\naction = \"notify\"\n"), 0o644)
	deadline := time.Now().Add(2 * time.Second)
	for len(s.Policies()) != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(s.Policies()) != 2 || s.State().LastReloadError != "" {
		t.Errorf("watch did not reload: %d policies, %q", len(s.Policies()), s.State().LastReloadError)
	}
	// with polling off nothing changes
	s2 := newStage(t, Config{PolicyFile: f, UpdateInterval: -1})
	done := make(chan struct{})
	go func() { s2.Watch(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Error("Watch with polling off does not return")
	}
}

func TestMissingPolicyFile(t *testing.T) {
	s := newStage(t, Config{PolicyFile: filepath.Join(t.TempDir(), "none.toml")})
	if len(s.Policies()) != 0 {
		t.Error("policies from a missing file")
	}
}

func TestFileErrors(t *testing.T) {
	head := "[[policy]]\nname = \"p\"\n"
	cases := []struct{ src, want string }{
		{head + "condition = \"cpu > \"\naction = \"notify\"\n", "f.toml:3:20: policy \"p\": condition: condition ends too early"},
		{head + "condition = \"cpux > 1\"\naction = \"notify\"\n", "f.toml:3:14: policy \"p\": condition: unknown feature \"cpux\""},
		{head + "condition = \"\"\"\ncpu > 1 and\n  runq $ 2\"\"\"\naction = \"notify\"\n", "f.toml:5:8: policy \"p\": condition: unexpected character '$'"},
		{head + "condition = \"cpu > 1\"\naction = \"sysctl kernel.panic = 1\"\n", "f.toml:4:18: policy \"p\": action: sysctl \"kernel.panic\" is not on the allowlist"},
		{head + "condition = \"cpu > 1\"\naction = \"nice top-cpu = 40\"\n", "f.toml:4:26: policy \"p\": action: nice: 40 is outside"},
		{head + "condition = \"cpu > 1\"\naction = \"notify\"\ncooldown = \"soon\"\n", "f.toml:5:13: policy \"p\": cooldown \"soon\" is not a duration"},
		{head + "condition = \"cpu > 1\"\naction = \"notify\"\nobjective = \"lower nr_running\"\n", "f.toml:5:14: policy \"p\": objective \"lower"},
		{head + "condition = \"cpu > 1\"\naction = \"notify\"\nobjective = \"minimize nope\"\n", "f.toml:5:23: policy \"p\": objective: unknown feature \"nope\""},
		{head + "condition = \"cpu > 1\"\naction = \"notify\"\ncolour = \"red\"\n", "f.toml:5:1: unknown key \"policy.colour\""},
		{head + "condition = \"cpu > 1\"\n", "f.toml:1:1: policy \"p\": missing action"},
		{head + "condition = \"cpu > 1\"\naction = \"notify\"\npriority = \"high\"\n", "f.toml:5:1: key \"policy.priority\": incompatible types"},
		{head + "condition = \"cpu > 1\"\naction = \"notify\"\nname = \"q\"\n", "f.toml:5:"},
		{head + "condition = \"cpu > 1\n", "f.toml:3:"},
		{head + "condition = \"cpu > 1\"\naction = \"notify\"\n" + head + "condition = \"cpu > 2\"\naction = \"notify\"\n", "f.toml:6:9: policy \"p\" is defined twice (first at line 1)"},
		{head + "condition = \"cpu > 1\"\naction = \"notify\"\npriority = 5000\n", "f.toml:5:12: policy \"p\": priority 5000 outside"},
		{"[policy]\nname = \"x\"\n", "f.toml:1:1: key \"policy\": incompatible types"},
		{head + "condition = \"cpu > 1\"\naction = \"notify\"\n[[policy]]\n", "f.toml:5:1: policy \"\": missing name"},
	}
	for _, c := range cases {
		_, err := ParseFile("f.toml", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("file:\n%s\nerr = %v\nwant prefix %q", c.src, err, c.want)
		}
	}
	// two conflicting policies with one priority
	conf := "[[policy]]\nname = \"a\"\ncondition = \"cpu > 1\"\naction = \"sysctl vm.swappiness = 10\"\n" +
		"[[policy]]\nname = \"b\"\ncondition = \"cpu > 2\"\naction = \"sysctl vm.swappiness = 90\"\n"
	f := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(f, []byte(conf), 0o644)
	_, err := New(Config{PolicyFile: f, Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), `policies "a" (`+f+`:1) and "b" (`+f+`:5) both change sysctl:vm.swappiness`) {
		t.Errorf("conflict: %v", err)
	}
}

func TestShippedPolicies(t *testing.T) {
	ps, err := LoadFile("../../policies/default.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 5 {
		t.Errorf("%d shipped policies", len(ps))
	}
	s := newStage(t, Config{PolicyFile: "../../policies/default.toml"})
	if len(s.Policies()) != len(ps) {
		t.Error("shipped policies do not load into the engine")
	}
}

func TestAppendJSON(t *testing.T) {
	s := newStage(t, Config{}, Policy{Name: "a", Condition: "cpu > 1 and anomaly(cpu) > 0.1", Action: `cgroup x cpu.max = "50000 100000"`, Enabled: true})
	w := win(sec, map[features.ID]float64{features.CPUBusyPct: 90}, 0.1)
	w.Score[features.CPUBusyPct] = 0.5
	out := s.Process([]predict.Output{w}, nil)
	got := string(out[len(out)-1].AppendJSON(nil))
	want := `{"time_ns":1000000000,"kind":"apply","policy":"a","priority":0,"action":"cgroup x cpu.max = \"50000 100000\"","knob":"cgroup:x:cpu.max","condition":"cpu > 1 and anomaly(cpu) > 0.1","values":{"cpu_busy_pct":90,"anomaly(cpu_busy_pct)":0.5}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestProcessAllocs(t *testing.T) {
	s := newStage(t, Config{}, Policy{Name: "a", Condition: "runq > 2000 for 5s", Action: "sysctl vm.swappiness -= 1", Enabled: true, Objective: "runq"})
	in := []predict.Output{win(sec, map[features.ID]float64{features.RunqLatencyP99Us: 100}, 0.1)}
	out := make([]Decision, 0, 16)
	n := uint64(1)
	allocs := testing.AllocsPerRun(200, func() {
		n++
		in[0].Vector.EndNs = n * sec
		out = s.Process(in, out[:0])
	})
	if allocs != 0 {
		t.Errorf("Process allocates %v per window", allocs)
	}
}

func BenchmarkProcess(b *testing.B) {
	s, _ := New(Config{Logger: quiet, LearningDuration: -1, EvalInterval: -1})
	s.AddPolicy(Policy{Name: "a", Condition: "runq > 2000 for 5s", Action: "sysctl vm.swappiness -= 1", Enabled: true})
	in := []predict.Output{win(sec, map[features.ID]float64{features.RunqLatencyP99Us: 100}, 0.1)}
	out := make([]Decision, 0, 16)
	for i := 0; i < b.N; i++ {
		in[0].Vector.EndNs = uint64(i+2) * sec
		out = s.Process(in, out[:0])
	}
}

func TestForecastHorizon(t *testing.T) {
	w := NewWindow(0, sec)
	w.HorizonNs = uint64(30 * time.Second)
	w.Vector.Values[features.CPUBusyPct] = 50
	w.Forecast[features.CPUBusyPct] = predict.Forecast{Value: 90, Lo: 80, Hi: 100}
	e := windowEnv{&w}
	if v, lo, hi := e.Forecast(features.CPUBusyPct, 0); v != 90 || lo != 80 || hi != 100 {
		t.Errorf("own horizon: %v %v %v", v, lo, hi)
	}
	if v, _, _ := e.Forecast(features.CPUBusyPct, 15*time.Second); v != 70 {
		t.Errorf("half horizon: %v, want 70", v)
	}
	if v, _, _ := e.Forecast(features.CPUBusyPct, 61*time.Second); !math.IsNaN(v) {
		t.Errorf("beyond twice the horizon: %v, want NaN", v)
	}
}

func TestMarshalJSON(t *testing.T) {
	s := newStage(t, Config{}, NewPolicy("a", "cpu > 1", "sysctl vm.swappiness = 10"))
	b, err := json.Marshal(s.Policies())
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"name":"a","condition":"cpu \u003e 1","action":"sysctl vm.swappiness = 10","priority":50,"cooldown":"30s","enabled":true,"origin":"api","state":"armed","effectiveness":null,"measurements":0,"actuations":0,"suppressed":0,"knob":"sysctl:vm.swappiness"}]`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	ds := s.Process([]predict.Output{win(sec, map[features.ID]float64{features.CPUBusyPct: math.NaN()}, 0.1)}, nil)
	if _, err := json.Marshal(ds); err != nil {
		t.Errorf("decisions: %v", err)
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add(goodFile)
	f.Add("[policy]\nname = 1\n")
	f.Add("[[policy]]\ncondition = \"\"\"\ncpu >\n\"\"\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseFile("f.toml", []byte(s))
		if err == nil {
			for _, p := range ps {
				if _, err := compile(p, nil, 0); err != nil {
					t.Fatalf("accepted a policy that does not compile: %v", err)
				}
			}
		}
	})
}

func TestBadConfig(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{EmergencyThreshold: 1.5}, "emergency_mode_threshold 1.5 outside (0, 1]"},
		{Config{EffectivenessThreshold: 2}, "policy_effectiveness_threshold 2 outside [-1, 1]"},
		{Config{MaxPolicies: -1}, "max_policies -1 must be positive"},
		{Config{AnomalyEnter: 0.5, AnomalyExit: 0.7}, "anomaly exit 0.7 above enter 0.5"},
	} {
		c.cfg.Logger = quiet
		if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.cfg, err, c.want)
		}
	}
	if _, err := (&Stage{}).Optimize(1); !errors.Is(err, ErrNoWindow) {
		t.Error("Optimize before any window")
	}
}
