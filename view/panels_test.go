package view_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/tune"
	"github.com/ainka/ainka/view"
)

// Forecast intervals are clamped to what a feature can be: counts and
// rates never below 0, percentages never above 100, in the current value
// and in the history.
func TestForecastClamped(t *testing.T) {
	r := view.NewRecorder(view.Sources{})
	o := window(1, 5, 0)
	o.Forecast[features.CPUBusyPct] = predict.Forecast{Value: 104, Lo: 92, Hi: 118}
	o.Forecast[features.SyscallsPerS] = predict.Forecast{Value: 3, Lo: -40, Hi: 50}
	r.ObservePredict([]predict.Output{o})
	got := map[string]view.Feature{}
	for _, f := range r.Snapshot().Features {
		got[f.Name] = f
	}
	cpu, sc := got["cpu_busy_pct"], got["syscalls_per_s"]
	if cpu.Forecast != 100 || cpu.Lo != 92 || cpu.Hi != 100 || cpu.HiHist[0] != 100 {
		t.Errorf("cpu_busy_pct forecast %v [%v, %v], hi history %v: want 100 [92, 100]", cpu.Forecast, cpu.Lo, cpu.Hi, cpu.HiHist)
	}
	if sc.Lo != 0 || sc.Hi != 50 || sc.LoHist[0] != 0 {
		t.Errorf("syscalls_per_s interval [%v, %v], lo history %v: want [0, 50]", sc.Lo, sc.Hi, sc.LoHist)
	}
	if !math.IsInf(float64(got["blk_iops"].Hi), 1) {
		t.Errorf("an unbounded upper end became %v", got["blk_iops"].Hi)
	}
}

// The timeline keeps far more than a snapshot's last few, numbered, and
// hands out only what is new.
func TestTimeline(t *testing.T) {
	r := view.NewRecorder(view.Sources{})
	for i := range 700 {
		r.ObserveDecisions([]decide.Decision{{TimeNs: uint64(i), Kind: decide.Apply, Policy: "p"}})
		r.ObserveResults([]actuate.Result{{TimeNs: uint64(i), Status: actuate.DryRun, Policy: "p", Knob: "sysctl:vm.swappiness", Old: "60", New: "61"}})
	}
	all := r.Timeline(0)
	if len(all) != 512 || all[len(all)-1].Seq != 1400 || all[0].Seq != 1400-511 {
		t.Fatalf("timeline of %d events, seq %d..%d: want the last 512, up to 1400", len(all), all[0].Seq, all[len(all)-1].Seq)
	}
	if n := r.Timeline(1398); len(n) != 2 || n[0].Type != "decision" || n[1].Type != "change" || n[1].Knob != "sysctl:vm.swappiness" {
		t.Errorf("events after 1398: %+v", n)
	}
	if n := r.Timeline(1400); len(n) != 0 {
		t.Errorf("events after the last: %+v", n)
	}
	if s := r.Snapshot(); len(s.Decisions) != 8 {
		t.Errorf("a snapshot carries %d decisions, want the last 8", len(s.Decisions))
	}
}

// The terminal view shows the tuners with the regime, and how full the
// ring buffer came; the snapshot carries the policies.
func TestTunersRingAndPolicies(t *testing.T) {
	r := view.NewRecorder(view.Sources{Mode: "live",
		Tuners: func() tune.Status {
			return tune.Status{Regime: 2, Regimes: 3, Tuners: []tune.TunerStatus{
				{Name: "cpu", Mode: "act", State: "exploring", Target: "stress-ng/batch", Setting: "nice 10", Steps: 3, GainPct: 12.5, Changes: 2},
				{Name: "readahead", Mode: "advise", State: "idle"}}}
		},
		Policies: func() []decide.PolicyStatus {
			return []decide.PolicyStatus{{Policy: decide.Policy{Name: "busy", Condition: "cpu_busy_pct > 50"}, State: "armed",
				Effectiveness: math.NaN()}}
		}})
	r.WatchFill(func() float64 { return 0.8 })
	r.Tick(time.Now())
	r.ObservePredict([]predict.Output{window(1, 5, 0)})
	s := r.Snapshot()
	if s.Regime != "2 of 3" || len(s.Tuners) != 2 || s.RingFill != 0.8 {
		t.Fatalf("regime %q, tuners %+v, ring fill %v", s.Regime, s.Tuners, s.RingFill)
	}
	if len(s.Policies) != 1 || s.Policies[0].Name != "busy" || s.Policies[0].Effectiveness.Valid() {
		t.Errorf("policies %+v", s.Policies)
	}
	screen := view.Render(s, 120, 0, view.Plain)
	for _, want := range []string{"TUNERS (workload regime 2 of 3)", "cpu         act, exploring stress-ng/batch at nice 10",
		"gain +12.5%  steps 3  changes 2", "readahead   advise, idle", "ring buffer     80% full at peak", "regime 2 of 3"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	if s := view.NewRecorder(view.Sources{}).Snapshot(); s.RingFill.Valid() || strings.Contains(view.Render(s, 120, 0, view.Plain), "ring buffer") {
		t.Errorf("a replay (no ring) shows a ring fill: %v", s.RingFill)
	}
}

// A tuner's change shows the gain it measured once the tuner has settled:
// at the end of the change's line in the terminal view (however long its
// why), the summary and the dashboard's timeline. A trial, made while the
// tuner explores, has no gain yet, and a policy's change never has one.
func TestTunerChangeShowsGain(t *testing.T) {
	st := tune.TunerStatus{Name: "cpu", Mode: "act", State: "exploring", Objective: "latency tasks' run-queue wait", GainPct: 40}
	r := view.NewRecorder(view.Sources{Mode: "live", Tuners: func() tune.Status { return tune.Status{Tuners: []tune.TunerStatus{st}} }})
	long := "nice pid:42 = 10: pid:42 (batch, confidence 0.91: " + strings.Repeat("on-CPU 98 % ", 20) + ")"
	res := func(sec uint64, policy, why string) []actuate.Result {
		return []actuate.Result{{TimeNs: sec * uint64(time.Second), Status: actuate.Applied, Policy: policy,
			Knob: "nice:pid:42", Old: "0", New: "10", Why: why}}
	}
	r.ObserveResults(res(1, "tuner:cpu", "trial 2 of 8 (UCB1)"))
	st.State, st.GainPct = "settled", 12.4
	r.ObserveResults(res(2, "tuner:cpu", long))
	r.ObserveResults(res(3, "busy", "cpu_busy_pct > 50"))
	s := r.Snapshot()
	if len(s.Changes) != 3 {
		t.Fatalf("changes %+v: want 3", s.Changes)
	}
	const gain = "+12 % latency tasks' run-queue wait"
	for i, want := range []string{"", gain, ""} {
		if s.Changes[i].Gain != want {
			t.Errorf("change %d (%s) gain %q, want %q", i, s.Changes[i].Why, s.Changes[i].Gain, want)
		}
	}
	screen := view.Render(s, 120, 0, view.Plain)
	var line string
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "tuner:cpu: nice pid:42 = 10") {
			line = l
		}
	}
	if !strings.HasSuffix(line, "…  gain "+gain) || utf8.RuneCountInString(line) > 120 {
		t.Errorf("the settled change's line does not end with its gain within 120 columns:\n%q\n%s", line, screen)
	}
	if n := strings.Count(screen, "gain +12 %"); n != 1 {
		t.Errorf("%d lines show the gain, want the settled change's only:\n%s", n, screen)
	}
	var out bytes.Buffer
	var z view.Summarizer
	if err := z.Write(&out, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "on-CPU 98 % )  gain "+gain+"\n") {
		t.Errorf("summary lacks the gain at the end of the change:\n%s", out.String())
	}
	ev := r.Timeline(0)
	if len(ev) != 3 || ev[0].Gain != "" || ev[1].Gain != gain || ev[2].Gain != "" {
		t.Errorf("timeline %+v: want the gain on the second event only", ev)
	}
}

// BenchmarkObserveWindow is the observers' work per window of 100 ms
// (one predict output, no decision, no change): what watching adds on
// the stages' goroutines, per window and not per event.
func BenchmarkObserveWindow(b *testing.B) {
	r := view.NewRecorder(view.Sources{})
	outs := []predict.Output{window(1, 5, 0.2)}
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i++
		outs[0].Vector.EndNs = i * 100_000_000
		r.ObservePredict(outs)
		r.ObserveDecisions([]decide.Decision{})
		r.ObserveResults([]actuate.Result{})
	}
	b.ReportMetric(float64(unsafe.Sizeof(outs[0])), "output-bytes")
}
