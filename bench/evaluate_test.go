package bench

import (
	"strings"
	"testing"
)

func reportWith(runs ...*Run) *Report {
	spec, _ := Lookup("cpu-contention")
	return &Report{Arms: Arms, Runs: runs, Scenarios: []ScenarioInfo{{Name: spec.Name, Primary: spec.Primary}}}
}

func runOf(arm, value string, p99 float64, busy bool) *Run {
	return &Run{Scenario: "cpu-contention", Arm: arm, KnobValue: value, Load: Load{Busy: busy},
		Figures: &Figures{Values: map[string]float64{"cyclictest_p99_us": p99}}}
}

func TestVerdictAinkaWorseThanUntuned(t *testing.T) {
	r := reportWith(runOf(ArmUntuned, "", 1000, false), runOf(ArmAinka, "", 1600, false), runOf(ArmOracle, "idle", 200, false), runOf(ArmOracle, "nice19", 900, false))
	rows, fails, _ := r.evaluate()
	if len(fails) != 1 || !strings.Contains(fails[0], "ainka does not make cyclictest_p99_us better than untuned") {
		t.Fatalf("failures = %v", fails)
	}
	var best *Row
	for i := range rows {
		if rows[i].Best {
			best = &rows[i]
		}
	}
	if best == nil || best.KnobValue != "idle" || best.GainVsUntuned != 5 {
		t.Fatalf("oracle best = %+v", best)
	}
	// A metric that must only not get worse (writeback's): within the
	// noise band (50 %), no failure.
	wb := func(arm string, p99 float64) *Run {
		return &Run{Scenario: "writeback", Arm: arm, Figures: &Figures{Values: map[string]float64{"small_fsync_p99_ms": p99}}}
	}
	spec, _ := Lookup("writeback")
	r = &Report{Arms: Arms, Runs: []*Run{wb(ArmUntuned, 10), wb(ArmAinka, 14)}, Scenarios: []ScenarioInfo{{Name: spec.Name, Primary: spec.Primary}}}
	if _, fails, _ := r.evaluate(); len(fails) != 0 {
		t.Fatalf("within the band: failures %v", fails)
	}
}

// cpu-contention must improve: ainka's median p99 below untuned's by more
// than the noise band (the untuned runs' IQR over their median here, 40 %
// of 1000; the floor is 50 %), not merely no worse.
func TestVerdictMustImprove(t *testing.T) {
	untuned := []*Run{runOf(ArmUntuned, "", 800, false), runOf(ArmUntuned, "", 1000, false), runOf(ArmUntuned, "", 1200, false), runOf(ArmUntuned, "", 1000, false)}
	for _, c := range []struct {
		ainka []float64
		fail  bool
	}{
		{[]float64{2000, 400, 300}, false}, // the first run explores; 2.5× on the median
		{[]float64{1000, 1000, 900}, true}, // no change: the broken loop
		{[]float64{700, 700, 700}, true},   // 1.43×: inside the band (needs > 1.5×)
	} {
		runs := append([]*Run(nil), untuned...)
		for _, p := range c.ainka {
			runs = append(runs, runOf(ArmAinka, "", p, false))
		}
		_, fails, _ := reportWith(runs...).evaluate()
		if got := len(fails) == 1 && strings.Contains(fails[0], "does not make cyclictest_p99_us better than untuned beyond the noise band"); got != c.fail || (!c.fail && len(fails) != 0) {
			t.Errorf("ainka %v: failures %v, want failing %v", c.ainka, fails, c.fail)
		}
	}
}

func TestVerdictBusyIsInconclusive(t *testing.T) {
	r := reportWith(runOf(ArmUntuned, "", 1000, false), runOf(ArmAinka, "", 3000, true))
	_, fails, inc := r.evaluate()
	if len(fails) != 0 || len(inc) != 1 || !strings.Contains(inc[0], "busy") {
		t.Fatalf("failures %v, inconclusive %v", fails, inc)
	}
}

func TestHostChangedFails(t *testing.T) {
	run := runOf(ArmTuned, "", 1000, false)
	run.HostDiff = []string{`/proc/sys/vm/swappiness: "60" -> "10"`}
	_, fails, _ := reportWith(run).evaluate()
	if len(fails) != 1 || !strings.Contains(fails[0], "tuned left the host changed") {
		t.Fatalf("failures = %v", fails)
	}
}

func TestNoiseBandFromUntunedSpread(t *testing.T) {
	spec, _ := Lookup("cpu-contention")
	if b := noiseBand(spec, summarize([]float64{1000})); b != spec.Primary.NoiseFloor {
		t.Fatalf("one run: band %v, want the floor", b)
	}
	if b := noiseBand(spec, summarize([]float64{100, 200, 300, 400, 500})); b != 200.0/300 {
		t.Fatalf("five runs: band %v, want IQR/median", b)
	}
	// two bracketing quick runs 120 and 200 (median 160): drift 80/160
	if b := noiseBand(spec, summarize([]float64{120, 200})); b != 0.5 {
		t.Fatalf("two runs: band %v, want their range over the median", b)
	}
	if b := noiseBand(spec, summarize([]float64{100, 110})); b != spec.Primary.NoiseFloor {
		t.Fatalf("two close runs: band %v, want the floor", b)
	}
}

func TestQuickBracketsWithUntuned(t *testing.T) {
	spec, _ := Lookup("readahead")
	got := expandArms(spec, []string{ArmUntuned, ArmAinka}, true, nil)
	if len(got) != 3 || got[0].arm != ArmUntuned || got[1].arm != ArmAinka || got[2].arm != ArmUntuned {
		t.Fatalf("quick arms = %v, want untuned, ainka, untuned", got)
	}
	if got := expandArms(spec, []string{ArmUntuned, ArmAinka}, false, nil); len(got) != 2 {
		t.Fatalf("full arms = %v, want one run per arm per repeat", got)
	}
	if got := expandArms(spec, []string{ArmAinka}, true, nil); len(got) != 1 {
		t.Fatalf("quick without untuned = %v, want no bracket", got)
	}
}

// --oracle restricts the oracle arm to the values asked for, in their
// order; without it every value of the knob runs.
func TestOracleValuesRestrictTheSweep(t *testing.T) {
	spec, _ := Lookup("cpu-contention")
	got := expandArms(spec, []string{ArmUntuned, ArmOracle}, false, []string{"idle", "nice19"})
	if len(got) != 3 || got[1] != (armValue{ArmOracle, "idle"}) || got[2] != (armValue{ArmOracle, "nice19"}) {
		t.Fatalf("arms = %v, want untuned, oracle=idle, oracle=nice19", got)
	}
	if got := expandArms(spec, []string{ArmOracle}, false, nil); len(got) != len(spec.Knob.Values) {
		t.Fatalf("arms = %v, want every knob value", got)
	}
}

func TestSnapshotDiffAndRestoreOrder(t *testing.T) {
	base := &Snapshot{Files: map[string]string{
		"/proc/sys/vm/dirty_ratio": "20", "/proc/sys/vm/dirty_bytes": "0", "/proc/sys/vm/swappiness": "60",
	}, Names: map[string]bool{"/run/netns/ainka-bench-srv": false}, Procs: map[procKey]procPri{{1, 1}: {comm: "x", nice: 0}}}
	now := &Snapshot{Files: map[string]string{
		"/proc/sys/vm/dirty_ratio": "0", "/proc/sys/vm/dirty_bytes": "67108864", "/proc/sys/vm/swappiness": "60",
	}, Names: map[string]bool{"/run/netns/ainka-bench-srv": true}, Procs: map[procKey]procPri{{1, 1}: {comm: "x", nice: 10}}}
	d := base.Diff(now)
	if len(d) != 4 {
		t.Fatalf("diff = %v", d)
	}
	order := restoreOrder(base, now)
	if len(order) != 1 || order[0] != "/proc/sys/vm/dirty_ratio" {
		t.Fatalf("restore order = %v: a zero bytes value comes back through its ratio", order)
	}
	if activeChoice("always [madvise] never") != "madvise" || activeChoice("mq-deadline") != "mq-deadline" {
		t.Fatal("activeChoice")
	}
}
