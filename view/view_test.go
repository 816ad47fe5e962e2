package view_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/view"
)

// window is one predict output at second sec with every feature at v and
// runq_latency_p99_us scored score.
func window(sec uint64, v, score float64) predict.Output {
	var o predict.Output
	o.Vector.EndNs = sec * uint64(time.Second)
	for i := range o.Vector.Values {
		o.Vector.Values[i] = v
		o.Forecast[i] = predict.Forecast{Value: v, Lo: math.Inf(-1), Hi: math.Inf(1)}
	}
	o.Vector.Values[features.NetRxPPS] = 0 // idle all along
	o.Score[features.RunqLatencyP99Us] = score
	o.Forecast[features.CPUBusyPct] = predict.Forecast{Value: 97, Lo: 90, Hi: 99}
	o.Joint = score / 2
	return o
}

func TestRecorderSnapshot(t *testing.T) {
	r := view.NewRecorder(view.Sources{Mode: "replay", DryRun: true,
		Engine: func() decide.Status {
			return decide.Status{State: "optimizing", Policies: 3, SinceNs: uint64(time.Second)}
		}})
	// Two windows per second for 5 s; the score spikes at second 3.
	for sec := uint64(1); sec <= 5; sec++ {
		score := 0.0
		if sec == 3 {
			score = 0.8
		}
		r.ObservePredict([]predict.Output{window(sec, float64(sec), score), window(sec, float64(sec)+1, 0)})
	}
	a, err := action.Parse("sysctl vm.swappiness = 10")
	if err != nil {
		t.Fatal(err)
	}
	d := decide.Decision{TimeNs: 3 * uint64(time.Second), Kind: decide.Apply, Policy: "busy", Action: a,
		Condition: "cpu_busy_pct > 50", NValues: 1}
	d.Values[0] = decide.Value{Name: "cpu_busy_pct", Value: 97.5}
	r.ObserveDecisions([]decide.Decision{d})
	r.ObserveResults([]actuate.Result{
		{TimeNs: d.TimeNs, Status: actuate.DryRun, Policy: "busy", Knob: "sysctl:vm.swappiness", Old: "60", New: "10", Why: "cpu_busy_pct > 50"},
		{TimeNs: d.TimeNs, Status: actuate.Measured, Policy: "busy"}, // bookkeeping: not shown
	})
	s := r.Snapshot()
	if s.Windows != 10 || s.EventTimeNs != 5*uint64(time.Second) {
		t.Errorf("windows %d, event time %d: want 10 and 5 s", s.Windows, s.EventTimeNs)
	}
	if len(s.Features) != int(features.Count) || s.Features[0].Name != "runq_latency_p99_us" || s.Features[0].MaxScore != 0.8 {
		t.Fatalf("most anomalous feature %+v: want runq_latency_p99_us with max score 0.8", s.Features[0])
	}
	// One point per second, by mean: second 1 holds windows 1 and 2.
	if h := s.Features[1].History; len(h) != 5 || h[0] != 1.5 || h[4] != 5.5 {
		t.Errorf("history %v: want 5 points from 1.5 to 5.5", h)
	}
	if len(s.Decisions) != 1 || s.Decisions[0].Why != "cpu_busy_pct > 50 [cpu_busy_pct=97.5]" {
		t.Errorf("decisions %+v", s.Decisions)
	}
	if len(s.Changes) != 1 || s.Changes[0].Status != "dry_run" {
		t.Errorf("changes %+v: want the dry-run change only", s.Changes)
	}
	r.Reset()
	if h := r.Snapshot().Features[0].History; len(h) != 0 {
		t.Errorf("history after Reset: %v", h)
	}
}

func TestRecorderRates(t *testing.T) {
	p := pipeline.New(pipeline.Options{})
	ev := p.Metrics().GetOrCreateCounter(`ainka_events_total{kind="syscall"}`)
	lost := uint64(0)
	r := view.NewRecorder(view.Sources{Pipeline: p, Ring: func() []view.RingStats {
		return []view.RingStats{{Kind: "syscall", Lost: lost}}
	}})
	t0 := time.Now()
	r.Tick(t0)
	ev.Add(2000)
	lost = 50
	r.Tick(t0.Add(2 * time.Second))
	k := r.Snapshot().Kinds
	if len(k) != 1 || k[0].Kind != "syscall" || k[0].PerSec != 1000 || k[0].LostPerSec != 25 || k[0].Total != 2000 {
		t.Fatalf("kinds %+v: want syscall at 1000/s, lost 25/s", k)
	}
}

// Before its second tick the recorder has no rates: they are unknown, and
// a snapshot must still encode (the dashboard sent "{}" for every early
// update when NaN sat in plain float64 fields).
func TestFirstTickSnapshotEncodes(t *testing.T) {
	p := pipeline.New(pipeline.Options{})
	p.Metrics().GetOrCreateCounter(`ainka_events_total{kind="syscall"}`).Add(10)
	r := view.NewRecorder(view.Sources{Pipeline: p, Ring: func() []view.RingStats {
		return []view.RingStats{{Kind: "syscall", Lost: 1}}
	}})
	r.Tick(time.Now())
	b, err := json.Marshal(r.Snapshot())
	if err != nil {
		t.Fatalf("first-tick snapshot does not encode: %v", err)
	}
	if !strings.Contains(string(b), `"per_s":null`) {
		t.Errorf("an unknown rate should encode as null: %s", b)
	}
}

func TestNumJSON(t *testing.T) {
	in := []view.Num{1.5, view.Num(math.NaN()), view.Num(math.Inf(1))}
	b, err := json.Marshal(in)
	if err != nil || string(b) != "[1.5,null,null]" {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var out []view.Num
	if err := json.Unmarshal(b, &out); err != nil || out[0] != 1.5 || out[1].Valid() {
		t.Fatalf("unmarshal: %v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`["x"]`), &out); err == nil {
		t.Error("a string as a number: no error")
	}
}

func TestSparkline(t *testing.T) {
	pts := []view.Num{0, 1, view.Num(math.NaN()), 2}
	if got := view.Sparkline(pts, 10); got != "▁▅ █" {
		t.Errorf("Sparkline = %q", got)
	}
	if got := view.Sparkline(pts, 2); got != " ▁" { // one point: no range
		t.Errorf("Sparkline cut to 2 = %q", got)
	}
	if got := view.SparklineRange([]view.Num{0.01, 0.02}, 5, 0, 1); got != "▁▁" {
		t.Errorf("noise on a 0..1 scale = %q, want flat", got)
	}
}

func snapshotWithEverything() view.Snapshot {
	r := view.NewRecorder(view.Sources{Mode: "live",
		Engine: func() decide.Status { return decide.Status{State: "optimizing", Policies: 3} },
		Knobs: func() []actuate.Change {
			return []actuate.Change{{Key: "sysctl:vm.swappiness", Original: "60", Value: "10", Policy: "busy", Since: "12:00:01"}}
		},
		Log: func() []string { return []string{"12:00:02 WARN kernel module unreachable"} },
	})
	for sec := uint64(1); sec <= 3; sec++ {
		r.ObservePredict([]predict.Output{window(sec, float64(sec), 0.7)})
	}
	r.ObserveDecisions([]decide.Decision{{TimeNs: uint64(time.Second), Kind: decide.StateChange, State: decide.Optimizing,
		Reason: "learned for 1s"}})
	return r.Snapshot()
}

func TestRender(t *testing.T) {
	s := snapshotWithEverything()
	screen := view.Render(s, 100, 0, view.Plain)
	for _, want := range []string{
		"AINKA  live", "state optimizing", "EVENTS", "PIPELINE", "FEATURES", "1 idle not shown",
		"runq_latency_p99_us", "0.70", "[90 … 99]", "DECISIONS", "2.0s ago  state", "→ optimizing: learned for 1s",
		"KNOBS CHANGED (1 held)", "sysctl:vm.swappiness  60 → 10  by busy", "WARN kernel module unreachable",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "net_rx_pps") {
		t.Errorf("an idle feature is shown:\n%s", screen)
	}
	for i, l := range strings.Split(screen, "\n") {
		if n := len([]rune(l)); n > 100 {
			t.Errorf("line %d is %d columns wide: %q", i, n, l)
		}
	}
	short := view.Render(s, 100, 20, view.Plain)
	if n := strings.Count(short, "\n") + 1; n > 20 {
		t.Errorf("height 20: %d lines", n)
	}
}

func TestSummary(t *testing.T) {
	s := snapshotWithEverything()
	var z view.Summarizer
	var b bytes.Buffer
	if err := z.Write(&b, s); err != nil {
		t.Fatal(err)
	}
	first := b.String()
	for _, want := range []string{"live: state optimizing", "knobs held 1", "most anomalous: runq_latency_p99_us", "decision state"} {
		if !strings.Contains(first, want) {
			t.Errorf("summary lacks %q:\n%s", want, first)
		}
	}
	b.Reset()
	z.Write(&b, s)
	if strings.Contains(b.String(), "decision") {
		t.Errorf("the second summary repeats a decision:\n%s", b.String())
	}
}

func TestExplain(t *testing.T) {
	held := []actuate.Change{{Key: "sysctl:vm.swappiness", Original: "60", Value: "30", Policy: "busy", Since: "03:00:00"}}
	r := view.NewRecorder(view.Sources{Knobs: func() []actuate.Change { return held }})
	r.ObserveResults([]actuate.Result{
		{TimeNs: 1e9, Status: actuate.Applied, Policy: "busy", Knob: "sysctl:vm.swappiness", Old: "60", New: "30", Why: "cpu_busy_pct > 50"},
		{TimeNs: 2e9, Status: actuate.RateLimited, Policy: "busy", Knob: "sysctl:vm.swappiness", Old: "30", New: "20"},
		{TimeNs: 2e9, Status: actuate.Applied, Policy: "io", Knob: "blockdev:sda/read_ahead_kb", Old: "128", New: "256"},
	})
	for _, name := range []string{"vm.swappiness", "sysctl:vm.swappiness"} {
		e, ok := r.Explain(name)
		if !ok || e.Knob != "sysctl:vm.swappiness" || e.Held == nil || e.Held.Original != "60" || len(e.Changes) != 2 ||
			e.Changes[0].Why != "cpu_busy_pct > 50" || e.Changes[1].Status != "rate_limited" {
			t.Errorf("Explain(%q) = %+v, %v", name, e, ok)
		}
	}
	if e, ok := r.Explain("swappiness"); ok {
		t.Errorf("a partial name matched: %+v", e)
	}
	held = nil
	if e, ok := r.Explain("sda/read_ahead_kb"); !ok || e.Held != nil || len(e.Changes) != 1 {
		t.Errorf("a knob changed and not held: %+v, %v", e, ok)
	}
	for i := 0; i < 100; i++ {
		r.ObserveResults([]actuate.Result{{TimeNs: uint64(3+i) * 1e9, Status: actuate.Restored, Knob: "sysctl:vm.swappiness"}})
	}
	if e, _ := r.Explain("vm.swappiness"); len(e.Changes) != 32 || e.Changes[31].TimeNs != 102e9 {
		t.Errorf("history not bounded to the newest 32: %d changes", len(e.Changes))
	}
}

func TestChangeText(t *testing.T) {
	knob := view.Change{Knob: "sysctl:vm.swappiness", Old: "60", New: "61", Policy: "busy", Why: "cpu_busy_pct > 50"}
	if got, want := knob.Text(), "sysctl:vm.swappiness 60 → 61  busy: cpu_busy_pct > 50"; got != want {
		t.Errorf("knob change: %q, want %q", got, want)
	}
	advice := view.Change{Status: "advice", Policy: "tuner:cpu", Why: "advice: would set nice pid:7 = 19"}
	if got, want := advice.Text(), "tuner:cpu: advice: would set nice pid:7 = 19"; got != want {
		t.Errorf("advice: %q, want %q (no empty knob and arrow)", got, want)
	}
}
