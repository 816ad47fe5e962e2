package decide

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/predict/alarm"
)

// Event time zero is a real time: a stamp set at 0 is set.
func TestStamp(t *testing.T) {
	var s stamp
	if s.heldFor(100, 0) || s.within(100, 1000) {
		t.Fatal("an unset stamp holds")
	}
	s.startOnce(0)
	s.startOnce(50) // keeps the first start
	if !s.heldFor(10, 10) || s.heldFor(9, 10) || !s.within(9, 10) || s.within(10, 10) {
		t.Errorf("stamp at 0: %+v", s)
	}
	s.clear()
	if s.ok || s.heldFor(100, 0) {
		t.Error("clear did not unset")
	}
}

func TestHistorySummary(t *testing.T) {
	h := newHistory(8)
	var v [features.Count]float64
	for i := uint64(1); i <= 12; i++ { // wraps the ring
		v[features.CPUBusyPct] = float64(10 * i)
		h.add(i*sec, &v)
	}
	s := h.summarize(features.CPUBusyPct, 8*sec, 12*sec) // windows 9..12
	if s.n != 4 || s.mean != 105 || math.Abs(s.slope*float64(sec)-10) > 1e-9 {
		t.Errorf("summary %+v", s)
	}
	if e := h.summarize(features.CPUBusyPct, 20*sec, 30*sec); e.n != 0 || !math.IsNaN(e.mean) {
		t.Errorf("empty span %+v", e)
	}
	// noise around a flat line has no significant slope
	h = newHistory(16)
	for i := uint64(1); i <= 10; i++ {
		v[features.CPUBusyPct] = 50 + float64(i%2)
		h.add(i*sec, &v)
	}
	if s := h.summarize(features.CPUBusyPct, 0, 10*sec); s.slope != 0 {
		t.Errorf("noise read as a trend: %+v", s)
	}
}

func TestEffectsJudge(t *testing.T) {
	h := newHistory(64)
	e := effects{hist: h, settle: 2 * sec, window: 5 * sec}
	var v [features.Count]float64
	add := func(from, to uint64, val float64) {
		for i := from; i <= to; i++ {
			v[features.RunqLatencyP99Us] = val + float64(i%2) // a little noise
			h.add(i*sec, &v)
		}
	}
	add(1, 10, 1000)
	p := e.baseline(features.RunqLatencyP99Us, 10*sec)
	add(11, 17, 500)
	if e.due(p, 16*sec) || !e.due(p, 17*sec) {
		t.Error("due at the wrong time")
	}
	j, ok := e.judge(p, features.RunqLatencyP99Us, false)
	if !ok || j.score < 0.4 || j.score > 0.6 {
		t.Errorf("halving a latency: %+v %v", j, ok)
	}
	if j, _ := e.judge(p, features.RunqLatencyP99Us, true); j.score > -0.4 {
		t.Errorf("halving a throughput scored %v", j.score)
	}
	if _, ok := e.judge(pendingEffect{atNs: 100 * sec}, features.RunqLatencyP99Us, false); ok {
		t.Error("judged without data")
	}
	r := newEffectRecord()
	r.add(1)
	r.add(0)
	if r.score != 0.5 || r.n != 2 {
		t.Errorf("running score %+v", r)
	}
}

func TestFlapDetector(t *testing.T) {
	f := newFlapDetector(3, 10*sec)
	writers := []string{"a", "b", "a", "b"}
	var prev string
	var n int
	for i, w := range writers {
		prev, n = f.note("k", w, uint64(i)*sec)
	}
	if prev != "a" || n != 3 {
		t.Fatalf("flap not seen: %q %d", prev, n)
	}
	f.settle("k", "a")
	if p, _ := f.note("k", "a", 5*sec); p != "" {
		t.Error("the winner writing again is a flap")
	}
	// changes further apart than the window are not flapping
	f = newFlapDetector(3, sec)
	for i, w := range writers {
		if p, _ := f.note("k", w, uint64(i)*10*sec); p != "" {
			t.Fatal("slow changes counted as flapping")
		}
	}
}

func TestMachine(t *testing.T) {
	cfg := Config{Logger: quiet}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	m := machine{cfg: &cfg}
	step := func(now uint64, j float64) State {
		w := predict.Output{Alarm: alarm.Result{Level: j}}
		st, _ := m.next(now, &w, now)
		m.enter(st, now)
		return st
	}
	if st := step(sec, 0.1); st != Learning {
		t.Fatalf("in learning: %v", st)
	}
	if st := step(61*sec, 0.1); st != Optimizing {
		t.Fatalf("after learning: %v", st)
	}
	if st := step(62*sec, 0.9); st != AnomalyDetection {
		t.Fatalf("anomaly: %v", st)
	}
	step(63*sec, 0.1) // under the exit level: starts the hold
	if st := step(72*sec, 0.1); st != AnomalyDetection {
		t.Fatalf("left before StateHold: %v", st)
	}
	if st := step(73*sec, 0.1); st != Optimizing {
		t.Fatalf("held StateHold: %v", st)
	}
	if st := step(74*sec, 0.97); st != Emergency {
		t.Fatalf("emergency: %v", st)
	}
	step(75*sec, 0.9) // above threshold minus hysteresis: stays
	if st := step(90*sec, 0.9); st != Emergency {
		t.Fatalf("left inside the hysteresis band: %v", st)
	}
	m.forced = true
	step(91*sec, 0.1)
	if st := step(200*sec, 0.1); st != Emergency {
		t.Fatalf("left forced emergency: %v", st)
	}
}

func TestRuleSet(t *testing.T) {
	rs := ruleSet{max: 2}
	mk := func(name string, prio int, act string) *rule {
		c, err := compile(Policy{Name: name, Condition: "cpu > 1", Action: act, Enabled: true, Priority: prio}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		return newRule(c, true)
	}
	if err := rs.add(mk("low", 1, "sysctl vm.swappiness = 10")); err != nil {
		t.Fatal(err)
	}
	if err := rs.add(mk("low", 5, "notify")); !errors.Is(err, ErrPolicy) {
		t.Errorf("duplicate name: %v", err)
	}
	if err := rs.add(mk("same", 1, "sysctl vm.swappiness = 20")); !errors.Is(err, ErrPolicy) || len(rs.list) != 1 || rs.list[0].conflicts != nil {
		t.Errorf("equal priority conflict: %v, %d rules", err, len(rs.list))
	}
	if err := rs.add(mk("high", 9, "sysctl vm.swappiness = 20")); err != nil {
		t.Fatal(err)
	}
	if rs.list[0].c.Name != "high" || len(rs.list[1].conflicts) != 1 {
		t.Errorf("order or conflicts: %s %v", rs.list[0].c.Name, rs.list[1].conflicts)
	}
	if err := rs.add(mk("third", 3, "notify")); !errors.Is(err, ErrTooManyPolicies) {
		t.Errorf("over max: %v", err)
	}
	rs.list[0].active = true
	if !rs.heldByHigher(rs.list[1], "sysctl:vm.swappiness") {
		t.Error("knob not held by the higher policy")
	}
	if rs.remove("high") == nil || rs.remove("high") != nil || rs.list[0].conflicts != nil {
		t.Error("remove")
	}
}

func TestPolicyFileChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.toml")
	if err := os.WriteFile(path, []byte(goodFile), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &policyFile{path: path}
	if _, _, err := f.read(0); err != nil {
		t.Fatal(err)
	}
	if f.changed() {
		t.Error("unchanged file reported as changed")
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(path, later, later) // touched, same contents
	if f.changed() {
		t.Error("a touch is a change")
	}
	os.WriteFile(path, []byte(goodFile+"\n# comment\n"), 0o644)
	if !f.changed() {
		t.Error("new contents not seen")
	}
	os.Remove(path)
	if _, _, err := f.read(0); err == nil || f.changed() {
		t.Errorf("missing file: %v", err)
	}
}

// An Optimize request is served on the stage's goroutine with its next
// batch: its decisions carry the request's number and are in Process's
// output, so they go down the pipeline.
func TestOptimizeRequest(t *testing.T) {
	s := newStage(t, Config{EvalInterval: time.Hour},
		Policy{Name: "busy", Condition: "cpu > 50", Action: "sysctl vm.swappiness = 10", Enabled: true})
	w := func(t uint64) []predict.Output {
		return []predict.Output{win(t, map[features.ID]float64{features.CPUBusyPct: 20}, 0.1)}
	}
	if _, err := s.Optimize(1); !errors.Is(err, ErrNoWindow) {
		t.Fatalf("before a window: %v", err)
	}
	s.Process(w(sec), nil)
	if _, err := s.Optimize(0); !errors.Is(err, ErrRequestID) {
		t.Fatalf("request 0: %v", err)
	}
	// The condition is false: the request is served with no decisions.
	req, err := s.Optimize(7)
	if err != nil {
		t.Fatal(err)
	}
	s.Process(w(2*sec), nil)
	ds, err := req.Wait(context.Background())
	if err != nil || len(ds) != 0 {
		t.Fatalf("false condition: %v %v", ds, err)
	}
	hot := []predict.Output{win(3*sec, map[features.ID]float64{features.CPUBusyPct: 90}, 0.1)}
	s.Process(hot, nil) // within the hour: the cadence does not evaluate
	req, _ = s.Optimize(8)
	out := s.Process(hot, nil)
	ds, _ = req.Wait(context.Background())
	if len(ds) != 1 || len(out) != 1 || out[0].Request != 8 || ds[0].Kind != Apply || ds[0].Request != 8 {
		t.Fatalf("decisions %+v, output %+v", ds, out)
	}
	// A request not served yet times out for its caller, and Flush serves it.
	req, _ = s.Optimize(9)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := req.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("wait: %v", err)
	}
	s.Flush(nil)
	if _, err := req.Wait(context.Background()); err != nil {
		t.Errorf("after Flush: %v", err)
	}
}

// After the input has ended there is no pipeline to go through: the
// request is served at once, in place.
func TestOptimizeAfterEnd(t *testing.T) {
	s := newStage(t, Config{EvalInterval: time.Hour},
		Policy{Name: "busy", Condition: "cpu > 50", Action: "notify", Enabled: true})
	s.Process([]predict.Output{win(sec, map[features.ID]float64{features.CPUBusyPct: 90}, 0.1)}, nil)
	s.Flush(nil)
	req, err := s.Optimize(3)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := req.Wait(context.Background())
	if err != nil || req.InPipeline() || len(ds) != 1 || ds[0].Request != 3 {
		t.Errorf("in place: %+v %v, in pipeline %v", ds, err, req.InPipeline())
	}
}

// A condition whose values a Decision cannot all carry is refused, not
// explained in part.
func TestTooManyValues(t *testing.T) {
	cond := "cpu > 1 and mem > 1 and runq_latency_p99_us > 1 and syscalls_per_s > 1 and " +
		"anomaly(cpu) > 0.5 and joint() > 0.5 and forecast(cpu) > 1 and forecast_hi(mem) > 1 and abs(psi_cpu_some_pct) > 1"
	s := newStage(t, Config{})
	err := s.AddPolicy(Policy{Name: "wide", Condition: cond, Action: "notify", Enabled: true})
	if !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), "at most 8") {
		t.Fatalf("err = %v", err)
	}
}
