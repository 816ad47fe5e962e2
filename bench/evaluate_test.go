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
	if len(fails) != 1 || !strings.Contains(fails[0], "ainka makes cyclictest_p99_us worse than untuned") {
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
	// within the noise band (50 %): no failure
	r = reportWith(runOf(ArmUntuned, "", 1000, false), runOf(ArmAinka, "", 1400, false))
	if _, fails, _ := r.evaluate(); len(fails) != 0 {
		t.Fatalf("within the band: failures %v", fails)
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
	got := expandArms(spec, []string{ArmUntuned, ArmAinka}, true)
	if len(got) != 3 || got[0].arm != ArmUntuned || got[1].arm != ArmAinka || got[2].arm != ArmUntuned {
		t.Fatalf("quick arms = %v, want untuned, ainka, untuned", got)
	}
	if got := expandArms(spec, []string{ArmUntuned, ArmAinka}, false); len(got) != 2 {
		t.Fatalf("full arms = %v, want one run per arm per repeat", got)
	}
	if got := expandArms(spec, []string{ArmAinka}, true); len(got) != 1 {
		t.Fatalf("quick without untuned = %v, want no bracket", got)
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
