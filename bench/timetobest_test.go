package bench

import (
	"bytes"
	"strings"
	"testing"
)

// raRun is a readahead run of two phases, sequential [0, 4) s then random
// [4, 8) s, whose 250 ms throughput is seq until t and random after.
func raRun(arm, knob string, seqMiBs, randMiBs float64, series []Point) *Run {
	return &Run{Scenario: "readahead", Arm: arm, KnobValue: knob, Figures: &Figures{
		Values: map[string]float64{
			"phase0_read_mib_s": seqMiBs, "phase0_start_s": 0, "phase0_end_s": 4,
			"phase1_randread_mib_s": randMiBs, "phase1_start_s": 4, "phase1_end_s": 8,
			"phase2_read_mib_s": seqMiBs, "phase2_start_s": 8, "phase2_end_s": 12,
		},
		Series: map[string][]Point{"MiB/s": series},
	}}
}

// TestTimeToBest: the best static setting per kind of phase comes from the
// oracle's medians; an arm's time to best is when its throughput first
// reaches 90 % of it after the phase change, the phase's length when never.
func TestTimeToBest(t *testing.T) {
	ramp := []Point{{T: 8.25, V: 50}, {T: 8.5, V: 100}, {T: 9.0, V: 190}, {T: 9.25, V: 200}, {T: 4.25, V: 5}, {T: 4.5, V: 9.5}}
	r := &Report{Arms: Arms, Scenarios: []ScenarioInfo{{Name: "readahead"}}, Runs: []*Run{
		raRun(ArmOracle, "16", 40, 10, nil),
		raRun(ArmOracle, "8192", 200, 8, nil),
		raRun(ArmOracle, "8192", 180, 7, nil),
		raRun(ArmAinka, "", 150, 9, ramp),
		raRun(ArmUntuned, "", 100, 3, []Point{{T: 9, V: 100}, {T: 5, V: 3}}),
	}}
	r.evaluate()
	got := map[string]PhaseBest{}
	for _, pb := range r.PhaseBest {
		got[pb.Arm+"/"+pb.Kind+"/"+string(rune('0'+pb.Phase))] = pb
	}
	if len(r.PhaseBest) != 4 {
		t.Fatalf("%d rows, want 4 (2 arms × phases 1 and 2): %+v", len(r.PhaseBest), r.PhaseBest)
	}
	a := got["ainka/read/2"]
	// Best sequential: 8192 (median 190); 90 % of it, 171, is first reached at 9.0 s.
	if a.BestKnob != "8192" || a.BestMiBs != 190 || a.Median != 1.0 || a.Missed != 0 || a.MiBs != 150 {
		t.Errorf("ainka phase 2: %+v, want best 190 at 8192, 1.0 s", a)
	}
	// Best random: 16 (10); 9 is reached at 4.5 s.
	if a := got["ainka/randread/1"]; a.BestKnob != "16" || a.Median != 0.5 {
		t.Errorf("ainka phase 1: %+v, want best at 16, 0.5 s", a)
	}
	if u := got["untuned/read/2"]; u.Missed != 1 || u.Median != 4 {
		t.Errorf("untuned phase 2: %+v, want missed, the phase's 4 s", u)
	}
	var buf bytes.Buffer
	r.WriteTimeToBest(&buf)
	if !strings.Contains(buf.String(), "time to best") || !strings.Contains(buf.String(), "190 at 8192          150   0.79") {
		t.Errorf("table:\n%s", buf.String())
	}
	// Without the oracle there is no best to reach: no rows, no table.
	r.Runs = r.Runs[3:]
	r.evaluate()
	buf.Reset()
	if r.WriteTimeToBest(&buf); len(r.PhaseBest) != 0 || buf.Len() != 0 {
		t.Errorf("without the oracle: %+v, %q", r.PhaseBest, buf.String())
	}
}
