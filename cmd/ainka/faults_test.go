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
		if want := map[string]int{"joint": 2, "max-feature": inTrace, "alarm": 2}[h.Name]; detected < want {
			t.Errorf("%s: %d faults detected, want at least %d", h.Name, detected, want)
		}
		if h.Name == "alarm" {
			checkAlarm(t, r)
		}
	}
	checkStageAlarm(t, ws, names)
}

// checkAlarm guards the host alarm's figures on R1 (docs/predict.md,
// "Ten clean minutes"): on this recording of a busy host the sustained
// rule finds only the two faults that stand out of the other jobs' load
// (IO saturation, the network flood), within 2 s and named by the feature
// that shows them, and raises no false alarm.
func checkAlarm(t *testing.T, r faults.Report) {
	t.Helper()
	if r.FalseAlarms > 0 {
		t.Errorf("alarm: %d false alarms in %.1f clean minutes, want none", r.FalseAlarms, r.CleanMinutes)
	}
	early := map[string]string{"io-saturation": "blk_iops", "net-flood": "net_rx_bytes_per_s"}
	for _, f := range r.Faults {
		d, ok := early[f.Name]
		if ok && (!f.Detected || f.Delay > 2*time.Second || !slices.Contains(f.AlarmDrivers, d)) {
			t.Errorf("alarm: %s detected %v after %v by %v; want within 2s, driven by %s", f.Name, f.Detected, f.Delay, f.AlarmDrivers, d)
		}
	}
}

// checkStageAlarm: what the stage wrote is what the default setting
// computes from the same values (faults.RunAlarm, which the selection
// runs every setting through).
func checkStageAlarm(t *testing.T, ws []faults.Window, names []string) {
	t.Helper()
	run, err := faults.RunAlarm(ws, names, alarm.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	for i := range ws {
		if run[i].Alarm != ws[i].Alarm && !(ws[i].Alarm != ws[i].Alarm) {
			t.Fatalf("window %d: the stage's alarm %v, the default setting over its values %v", i, ws[i].Alarm, run[i].Alarm)
		}
	}
}

// TestFaultBenchmarkAcross: leave-one-recording-out selection
// (faults.CrossRecordings over faults.QuickGrid: the sustained rule with
// and without its quick path and PSI floor) on the committed recordings
// (faults, clean, quiet, r5, r6, clean2). Chosen on the first four it
// was the default; with r6 in, the criterion (detections less three per
// false alarm) prefers the default without its quick path by one r6
// detection (the network flood, 0.45 s) against one r6 false alarm, on
// other sessions' shells starting (docs/predict.md, "R6 and clean2"),
// and the default is kept: the test pins both choices. Chosen without
// the quiet-host recording the setting holds there: ≥ 6 of its 7 faults,
// median delay ≤ 1.2 s, ≤ 1 false alarm; and the failing-open storms of
// quiet, r5 and r6 are found within 2 s (checkFailingOpen).
func TestFaultBenchmarkAcross(t *testing.T) {
	var recs []faults.Recording
	for _, name := range []string{"faults", "clean", "quiet", "r5", "r6", "clean2"} {
		ws, names, labels := replayFaults(t, name)
		recs = append(recs, faults.Recording{Name: name, Ws: ws, Names: names, Labels: labels})
	}
	checkFailingOpen(t, recs[2:5])
	grid := faults.QuickGrid()
	o := faults.Options{Warmup: 300, Recovery: 10 * time.Second}
	folds, all, err := faults.CrossRecordings(recs, grid, o)
	if err != nil {
		t.Fatal(err)
	}
	noQuick := alarm.DefaultParams()
	noQuick.Quick, noQuick.QuickFactor = 0, 0
	if grid[all] != noQuick {
		t.Errorf("chosen on all recordings %+v, want the default without its quick path (as measured)", grid[all])
	}
	for _, f := range folds {
		var delays []time.Duration
		for _, fr := range f.Result.Faults {
			if fr.Detected {
				delays = append(delays, fr.Delay)
			}
		}
		slices.Sort(delays)
		med := time.Duration(-1)
		if len(delays) > 0 {
			med = delays[len(delays)/2]
		}
		t.Logf("held out %s: chosen %+v; %d/%d detected, median delay %v, %d false alarms in %.2f clean minutes",
			f.HeldOut, f.Chosen, len(delays), len(f.Result.Faults), med, f.Result.FalseAlarms, f.Result.CleanMinutes)
		if f.HeldOut == "quiet" && (len(delays) < 6 || med > 1200*time.Millisecond || f.Result.FalseAlarms > 1) {
			t.Errorf("quiet held out: want ≥ 6 detected, median ≤ 1.2s, ≤ 1 false alarm")
		}
		if want := map[bool]alarm.Params{true: alarm.DefaultParams(), false: noQuick}[f.HeldOut == "r6"]; f.Chosen != want {
			t.Errorf("held out %s: chosen %+v, want %+v (as measured)", f.HeldOut, f.Chosen, want)
		}
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
// windows); the host alarm finds it (within 3 s: 2.98 s, 3.38 s without
// the quick path) with no false alarm, and
// the joint score's maximum inside it is ≥ 2× its clean p99; the earlier
// mean rule (alarm.MeanParams) found it at once but raised 37 false
// alarms.
func TestFaultBenchmarkClean(t *testing.T) {
	ws, names, labels := replayFaults(t, "clean")
	o := faults.Options{Warmup: 300, Recovery: 10 * time.Second}
	o.Threshold = alarm.Enter
	r := faults.Score(ws, names, labels, faults.Alarm, o)
	leak := r.Faults[0]
	t.Logf("alarm: memory-leak detected %v after %v by %v; %d false alarms in %.2f clean minutes", leak.Detected, leak.Delay, leak.AlarmDrivers, r.FalseAlarms, r.CleanMinutes)
	if r.CleanMinutes < 10 || leak.Name != "memory-leak" || !leak.Detected || leak.Delay > 3*time.Second || r.FalseAlarms > 0 {
		t.Errorf("alarm: %.2f clean minutes, %s detected %v after %v, %d false alarms; want ≥ 10, the memory leak within 3s, none",
			r.CleanMinutes, leak.Name, leak.Detected, leak.Delay, r.FalseAlarms)
	}
	o.Threshold = 0.65
	j := faults.Score(ws, names, labels, faults.Joint, o)
	t.Logf("joint: max inside the leak %.3f, clean p99 %.3f (%.2f×)", j.Faults[0].MaxScore, j.CleanP99, j.Faults[0].MaxScore/j.CleanP99)
	if j.Faults[0].MaxScore < 2*j.CleanP99 {
		t.Errorf("joint: max inside the leak %.3f < 2 × clean p99 %.3f", j.Faults[0].MaxScore, j.CleanP99)
	}
	checkPressure(t, ws, names, labels[0])
	run, err := faults.RunAlarm(ws, names, alarm.MeanParams())
	if err != nil {
		t.Fatal(err)
	}
	o.Threshold = alarm.Enter
	m := faults.Score(run, names, labels, faults.Alarm, o)
	t.Logf("mean rule: memory-leak detected %v after %v; %d false alarms", m.Faults[0].Detected, m.Faults[0].Delay, m.FalseAlarms)
	if m.FalseAlarms > 37 || !m.Faults[0].Detected {
		t.Errorf("mean rule: %d false alarms, leak detected %v; want ≤ 37 and detected", m.FalseAlarms, m.Faults[0].Detected)
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

// TestFaultBenchmarkJoint guards issue 15's joint-score goal per fault:
// its maximum inside a fault at least twice its 99th percentile on the
// clean windows of the same recording. The joint score is built from
// the host alarm's lasting deviations, each over its own alarm point
// (alarm.Result.Joint); the cluster model's surprise that it replaced
// reached that for 3 of the quiet host's 7 faults. On the quiet host
// (testdata/faults/quiet) every fault but the CPU hog must; the hog
// moves no feature beyond what the clean windows do (docs/predict.md,
// "Headroom"). On the busy host (faults) the IO saturation and the
// network flood must, on the long clean recording the leak, and on r5
// (recorded after the joint score was designed) all but the fork storm
// (other jobs' load at the time) and the CPU hog; on r6 (other sessions'
// shells through its fork storm) the leak, the failing opens, the IO
// saturation and the network flood, on clean2 the leak; on r7 (the idle
// host, held out) all seven, the CPU hog at 3.9× a clean p99 of 0.019.
func TestFaultBenchmarkJoint(t *testing.T) {
	want := map[string][]string{
		"quiet":  {"fork-storm", "memory-leak", "failing-open", "io-saturation", "net-flood", "sched-latency"},
		"faults": {"io-saturation", "net-flood"},
		"clean":  {"memory-leak"},
		"r5":     {"memory-leak", "failing-open", "io-saturation", "net-flood", "sched-latency"},
		"r6":     {"memory-leak", "failing-open", "io-saturation", "net-flood"},
		"clean2": {"memory-leak"},
		"r7":     {"fork-storm", "cpu-hog", "memory-leak", "failing-open", "io-saturation", "net-flood", "sched-latency"},
	}
	o := faults.Options{Threshold: faults.JointAlarm, Warmup: 300, Recovery: 10 * time.Second}
	for _, name := range []string{"quiet", "faults", "clean", "r5", "r6", "clean2", "r7"} {
		ws, names, labels := replayFaults(t, name)
		r := faults.Score(ws, names, labels, faults.Joint, o)
		for _, f := range r.Faults {
			if f.Windows == 0 {
				continue
			}
			ratio := f.MaxScore / r.CleanP99
			t.Logf("%s %-14s joint max %.3f, clean p99 %.3f: %.2f×", name, f.Name, f.MaxScore, r.CleanP99, ratio)
			if slices.Contains(want[name], f.Name) && !(ratio >= 2) {
				t.Errorf("%s %s: joint max %.3f < 2 × clean p99 %.3f", name, f.Name, f.MaxScore, r.CleanP99)
			}
		}
	}
}

// checkFailingOpen: on the recordings with syscalls sampled 1 in 64
// (quiet, r5, r6) the failing-open storm is found within 2 s by a
// syscall feature: syscall_errors_per_s on quiet and r5, which the
// default averages over 10 windows first (alarm.Params.Smoothed; judged
// like the other features, as lone samples, it was found after 2.82 s on
// quiet and not at all on r5), syscalls_per_s on r6 (the failed opens
// are syscalls too).
func checkFailingOpen(t *testing.T, recs []faults.Recording) {
	t.Helper()
	o := faults.Options{Threshold: alarm.Enter, Warmup: 300, Recovery: 10 * time.Second}
	by := map[string]string{"quiet": "syscall_errors_per_s", "r5": "syscall_errors_per_s", "r6": "syscalls_per_s"}
	for _, r := range recs {
		for _, f := range faults.Score(r.Ws, r.Names, r.Labels, faults.Alarm, o).Faults {
			if f.Name != "failing-open" {
				continue
			}
			t.Logf("%s failing-open: detected %v after %v by %v", r.Name, f.Detected, f.Delay, f.AlarmDrivers)
			if !f.Detected || f.Delay > 2*time.Second || !slices.Contains(f.AlarmDrivers, by[r.Name]) {
				t.Errorf("%s failing-open: detected %v after %v by %v; want within 2 s by %s", r.Name, f.Detected, f.Delay, f.AlarmDrivers, by[r.Name])
			}
		}
	}
}

// TestFaultBenchmarkIdle guards the host alarm on the two recordings made
// when no other session's jobs were meant to run (docs/predict.md, "R6
// and clean2"). clean2: ten clean minutes with no false alarm, the leak
// (real memory pressure) found within 2 s (1.49 s). r6: the leak, the
// failing opens, the IO saturation and the network flood found within 2 s
// (1.80, 0.97, 0.78, 0.45 s); its false alarms (2) both fall before the
// fork storm, where its sampled scheduler events show other sessions'
// shells holding both CPUs, and no more than those.
func TestFaultBenchmarkIdle(t *testing.T) {
	o := faults.Options{Threshold: alarm.Enter, Warmup: 300, Recovery: 10 * time.Second}
	ws, names, labels := replayFaults(t, "clean2")
	r := faults.Score(ws, names, labels, faults.Alarm, o)
	leak := r.Faults[0]
	t.Logf("clean2: leak detected %v after %v by %v; %d false alarms in %.2f clean minutes", leak.Detected, leak.Delay, leak.AlarmDrivers, r.FalseAlarms, r.CleanMinutes)
	if r.CleanMinutes < 10 || !leak.Detected || leak.Delay > 2*time.Second || r.FalseAlarms > 0 {
		t.Errorf("clean2: %.2f clean minutes, leak detected %v after %v, %d false alarms; want ≥ 10, within 2s, none", r.CleanMinutes, leak.Detected, leak.Delay, r.FalseAlarms)
	}
	checkPressure(t, ws, names, labels[0])

	ws, names, labels = replayFaults(t, "r6")
	r = faults.Score(ws, names, labels, faults.Alarm, o)
	early := map[string]bool{"memory-leak": true, "failing-open": true, "io-saturation": true, "net-flood": true}
	for _, f := range r.Faults {
		t.Logf("r6 %-14s detected %-5v after %-7v by %v", f.Name, f.Detected, f.Delay.Round(time.Millisecond), f.AlarmDrivers)
		if early[f.Name] && (!f.Detected || f.Delay > 2*time.Second) {
			t.Errorf("r6 %s: detected %v after %v; want within 2s", f.Name, f.Detected, f.Delay)
		}
	}
	before := onsets(ws, o.Warmup, labels[0].StartNs)
	t.Logf("r6: %d false alarms in %.2f clean minutes, %d of them before the fork storm", r.FalseAlarms, r.CleanMinutes, before)
	if r.FalseAlarms > 2 || before != r.FalseAlarms {
		t.Errorf("r6: %d false alarms, %d before the fork storm; want ≤ 2, all before it", r.FalseAlarms, before)
	}
}

// TestFaultBenchmarkHeldOut guards r7, the one recording of all seven
// faults on an idle host, made after every detector setting was chosen
// (testdata/faults/README.md; docs/predict.md, "R7"): the host alarm
// finds six of the seven within 2 s (the fork storm 1.01 s, the leak
// 1.83 s, the failing opens 0.91 s, the IO saturation 0.78 s, the
// network flood 1.15 s, the scheduling-latency spike 0.60 s) with no
// false alarm in its 3.19 clean minutes. The CPU hog is missed: its
// lasting rise of cpu_busy_pct shows over 30 windows, not over the 8
// the sustained rule takes, and the fork storm before it set the
// records it is judged against (docs/predict.md, "R7").
func TestFaultBenchmarkHeldOut(t *testing.T) {
	o := faults.Options{Threshold: alarm.Enter, Warmup: 300, Recovery: 10 * time.Second}
	ws, names, labels := replayFaults(t, "r7")
	r := faults.Score(ws, names, labels, faults.Alarm, o)
	found := 0
	for _, f := range r.Faults {
		t.Logf("r7 %-14s detected %-5v after %-7v by %v", f.Name, f.Detected, f.Delay.Round(time.Millisecond), f.AlarmDrivers)
		if f.Detected && f.Delay <= 2*time.Second {
			found++
		} else if f.Name != "cpu-hog" {
			t.Errorf("r7 %s: detected %v after %v; want within 2s", f.Name, f.Detected, f.Delay)
		}
	}
	t.Logf("r7: %d of %d within 2 s; %d false alarms in %.2f clean minutes", found, len(r.Faults), r.FalseAlarms, r.CleanMinutes)
	if len(r.Faults) != 7 || r.FalseAlarms > 0 || r.CleanMinutes < 3 {
		t.Errorf("r7: %d faults, %d false alarms in %.2f clean minutes; want 7, none in ≥ 3", len(r.Faults), r.FalseAlarms, r.CleanMinutes)
	}
}

// onsets counts the host alarm's onsets (a window at alarm.Enter or more
// after one below) from window warmup until the window ending at end.
func onsets(ws []faults.Window, warmup int, end uint64) int {
	n := 0
	for i := warmup; i < len(ws) && ws[i].EndNs <= end; i++ {
		if ws[i].Alarm >= alarm.Enter && !(ws[i-1].Alarm >= alarm.Enter) {
			n++
		}
	}
	return n
}

// TestFaultBenchmarkForeign guards docs/predict.md's "Other jobs in every
// recording": every host false alarm on the recordings with few other
// jobs (quiet, r5, r6, clean2) lies in a second in which another job's
// tasks ran (faults.ReadForeign over `--tap decode`), so without those
// seconds none is left, on at least 2.5 clean minutes of each.
func TestFaultBenchmarkForeign(t *testing.T) {
	const dir = "../../testdata/faults/"
	o := faults.Options{Threshold: alarm.Enter, Warmup: 300, Recovery: 10 * time.Second}
	for name, sched := range map[string]int{"quiet": 48, "r5": 48, "r6": 48, "clean2": 96} {
		ws, names, labels := replayFaults(t, name)
		dec, stderr, code := ainka("replay", dir+name+".trace", "--tap", "decode")
		if code != 0 {
			t.Fatalf("replay %s: exit %d: %s", name, code, stderr)
		}
		f, err := faults.ReadForeign(strings.NewReader(dec), sched, faults.ForeignRate)
		if err != nil {
			t.Fatal(err)
		}
		all := faults.Score(ws, names, labels, faults.Alarm, o)
		x := o
		x.Exclude = f.At
		r := faults.Score(ws, names, labels, faults.Alarm, x)
		t.Logf("%s: %d false alarms in %.2f clean minutes; without other jobs' seconds %d in %.2f", name, all.FalseAlarms, all.CleanMinutes, r.FalseAlarms, r.CleanMinutes)
		if r.FalseAlarms > 0 || r.CleanMinutes < 2.5 {
			t.Errorf("%s: without other jobs' seconds %d false alarms in %.2f clean minutes; want none in ≥ 2.5", name, r.FalseAlarms, r.CleanMinutes)
		}
	}
}
