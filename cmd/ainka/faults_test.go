package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/predict/alarm"
	"github.com/ainka/ainka/tools/faults"
)

// TestFaultBenchmark scores the predict stage on the kernel-fault benchmark
// (testdata/faults) through the replay path, as a person would run it:
// `ainka replay faults.trace --tap predict`. The figures are in
// docs/predict.md ("Kernel-fault benchmark", "Host-level alarm").
func TestFaultBenchmark(t *testing.T) {
	ws, names, labels := replayFaults(t, "faults")
	o := faults.Options{Threshold: 0.65, Warmup: 300, Recovery: 10 * time.Second}
	for _, h := range faults.HostScores() {
		o.Threshold = h.Threshold
		r := faults.Score(ws, names, labels, h.Host, o)
		detected, inTrace := 0, 0
		var delays []time.Duration
		for _, f := range r.Faults {
			t.Logf("%s %-14s windows %3d detected %-5v delay %-6v max %.3f drivers %v %v", h.Name, f.Name, f.Windows, f.Detected, f.Delay.Round(time.Millisecond), f.MaxScore, f.Drivers, f.AlarmDrivers)
			if f.Detected {
				detected++
				delays = append(delays, f.Delay)
			}
			if f.Windows > 0 {
				inTrace++
			}
		}
		slices.Sort(delays)
		t.Logf("%s: %d/%d faults detected (median delay %v); %d false alarms in %.1f clean minutes (%.1f per 10 min); clean p99 %.3f; NAB standard %.2f",
			h.Name, detected, inTrace, delays[len(delays)/2].Round(time.Millisecond), r.FalseAlarms, r.CleanMinutes, 10*float64(r.FalseAlarms)/r.CleanMinutes, r.CleanP99, r.NAB)
		// Regression guards at what was measured (docs/predict.md).
		if want := map[string]int{"joint": 2, "max-feature": inTrace, "alarm": 5}[h.Name]; detected < want {
			t.Errorf("%s: %d faults detected, want at least %d", h.Name, detected, want)
		}
		if h.Name == "alarm" {
			checkAlarm(t, r)
		}
	}
	checkAlarmCV(t, ws, names, labels, o)
}

// checkAlarm guards the host alarm's figures (docs/predict.md, "Host-level
// alarm"): at most the one false alarm measured (a 1.6 s network burst
// from outside the benchmark), and the three faults it catches early
// caught within 3 s, named by the feature that shows them.
func checkAlarm(t *testing.T, r faults.Report) {
	t.Helper()
	if r.FalseAlarms > 1 {
		t.Errorf("alarm: %d false alarms in %.1f clean minutes, want at most 1", r.FalseAlarms, r.CleanMinutes)
	}
	early := map[string]string{"failing-open": "syscall_errors_per_s", "io-saturation": "blk_iops", "net-flood": "net_rx_pps"}
	for _, f := range r.Faults {
		d, ok := early[f.Name]
		if ok && (!f.Detected || f.Delay > 3*time.Second || !slices.Contains(f.AlarmDrivers, d)) {
			t.Errorf("alarm: %s detected %v after %v by %v; want within 3s, driven by %s", f.Name, f.Detected, f.Delay, f.AlarmDrivers, d)
		}
	}
}

// checkAlarmCV: the stage's alarm is the setting leave-one-fault-out
// cross-validation chooses in every fold, and what the stage wrote is
// what that setting computes from the same values.
func checkAlarmCV(t *testing.T, ws []faults.Window, names []string, labels []faults.Fault, o faults.Options) {
	t.Helper()
	def := alarm.DefaultParams()
	run, err := faults.RunAlarm(ws, names, def)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ws {
		if run[i].Alarm != ws[i].Alarm && !(ws[i].Alarm != ws[i].Alarm) {
			t.Fatalf("window %d: the stage's alarm %v, the default setting over its values %v", i, ws[i].Alarm, run[i].Alarm)
		}
	}
	folds, err := faults.CrossValidate(ws, names, labels, faults.Grid(), o)
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, f := range folds {
		t.Logf("cross-validated: without %-14s chosen %+v; held out detected %v after %v", f.HeldOut, f.Chosen, f.Result.Detected, f.Result.Delay.Round(time.Millisecond))
		if f.Chosen != def {
			t.Errorf("without %s the procedure chooses %+v, not the default %+v", f.HeldOut, f.Chosen, def)
		}
		if f.Result.Detected {
			held++
		}
	}
	if held < 5 {
		t.Errorf("cross-validated: %d held-out faults detected, want 5", held)
	}
}

// replayFaults replays testdata/faults/NAME.trace through `ainka replay
// --tap predict` and reads its labels.
func replayFaults(t *testing.T, name string) ([]faults.Window, []string, []faults.Fault) {
	t.Helper()
	const dir = "../../testdata/faults/"
	labels, err := faults.ReadLabels(dir + name + ".labels.json")
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code := ainka("replay", dir+name+".trace", "--tap", "predict")
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	ws, names, err := faults.ReadTap(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return ws, names, labels
}

// TestFaultBenchmarkClean scores the long clean recording
// (testdata/faults/clean.trace: ten clean minutes of the benchmark's
// background workload, then the memory leak grown to pressure) through
// the replay path. It guards the figures of docs/predict.md ("Ten clean
// minutes"): the recording has ≥ 10 clean minutes; the leak is real
// memory pressure (PSI memory stalls inside it, none on the clean
// windows); the host alarm finds it within 2 s and the joint score's
// maximum inside it is ≥ 2× its clean p99; the default alarm's false
// alarms stay at most the 37 measured (it is far from the goal of 1 per
// 10 minutes: the doc says why), and the sustained rule's strictest
// setting at most 1.
func TestFaultBenchmarkClean(t *testing.T) {
	ws, names, labels := replayFaults(t, "clean")
	o := faults.Options{Warmup: 300, Recovery: 10 * time.Second}
	o.Threshold = alarm.Enter
	r := faults.Score(ws, names, labels, faults.Alarm, o)
	leak := r.Faults[0]
	t.Logf("alarm: memory-leak detected %v after %v by %v; %d false alarms in %.2f clean minutes", leak.Detected, leak.Delay, leak.AlarmDrivers, r.FalseAlarms, r.CleanMinutes)
	if r.CleanMinutes < 10 || leak.Name != "memory-leak" || !leak.Detected || leak.Delay > 2*time.Second || r.FalseAlarms > 37 {
		t.Errorf("alarm: %.2f clean minutes, %s detected %v after %v, %d false alarms; want ≥ 10, the memory leak within 2s, ≤ 37",
			r.CleanMinutes, leak.Name, leak.Detected, leak.Delay, r.FalseAlarms)
	}
	o.Threshold = 0.65
	j := faults.Score(ws, names, labels, faults.Joint, o)
	t.Logf("joint: max inside the leak %.3f, clean p99 %.3f (%.2f×)", j.Faults[0].MaxScore, j.CleanP99, j.Faults[0].MaxScore/j.CleanP99)
	if j.Faults[0].MaxScore < 2*j.CleanP99 {
		t.Errorf("joint: max inside the leak %.3f < 2 × clean p99 %.3f", j.Faults[0].MaxScore, j.CleanP99)
	}
	checkPressure(t, ws, names, labels[0])
	p := alarm.DefaultParams()
	p.Sustained, p.Smooth, p.Factor, p.Alpha, p.Decay, p.OneSided = true, 8, 3, 0.003, 0.9999, true
	run, err := faults.RunAlarm(ws, names, p)
	if err != nil {
		t.Fatal(err)
	}
	o.Threshold = alarm.Enter
	s := faults.Score(run, names, labels, faults.Alarm, o)
	t.Logf("sustained %+v: memory-leak detected %v after %v; %d false alarms", p, s.Faults[0].Detected, s.Faults[0].Delay, s.FalseAlarms)
	if s.FalseAlarms > 1 || !s.Faults[0].Detected {
		t.Errorf("sustained: %d false alarms, leak detected %v; want ≤ 1 and detected", s.FalseAlarms, s.Faults[0].Detected)
	}
}

// checkPressure: the leak is memory pressure the host's PSI sees (some
// stall in most of its windows), and the clean windows have none.
func checkPressure(t *testing.T, ws []faults.Window, names []string, leak faults.Fault) {
	t.Helper()
	col := -1
	for i, n := range names {
		if n == "psi_mem_some_pct" {
			col = i
		}
	}
	if col < 0 {
		t.Fatal("no psi_mem_some_pct in the tap")
	}
	var in, stalled, cleanStalled int
	for _, w := range ws {
		v := w.Values[col]
		switch {
		case w.EndNs > leak.StartNs && w.EndNs <= leak.EndNs:
			in++
			if v > 0 {
				stalled++
			}
		case w.EndNs <= leak.StartNs && v > 0:
			cleanStalled++
		}
	}
	t.Logf("psi_mem_some_pct > 0 in %d of the leak's %d windows, in %d windows before it", stalled, in, cleanStalled)
	if 2*stalled < in || cleanStalled > 0 {
		t.Errorf("memory pressure in %d of %d leak windows and %d before it; want most and none", stalled, in, cleanStalled)
	}
}
