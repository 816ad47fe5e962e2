package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/tools/faults"
)

// The kernel-fault benchmark (issue 15; testdata/faults/README.md): the
// recorded faults replayed through `ainka replay --tap predict`, scored
// per fault and on the clean parts, for the joint score and the highest
// feature score as host-level alarms. The figures are in
// docs/predict.md; the guards sit at what was measured.
func TestFaultBenchmark(t *testing.T) {
	const dir = "../../testdata/faults/"
	labels, err := faults.ReadLabels(dir + "faults.labels.json")
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code := ainka("replay", dir+"faults.trace", "--tap", "predict")
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	ws, names, err := faults.ReadTap(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	o := faults.Options{Threshold: 0.65, Warmup: 300, Recovery: 10 * time.Second}
	for _, h := range []struct {
		name string
		host faults.Host
	}{{"joint", faults.Joint}, {"max-feature", faults.MaxFeature}} {
		r := faults.Score(ws, names, labels, h.host, o)
		detected, inTrace := 0, 0
		for _, f := range r.Faults {
			t.Logf("%s %-14s windows %3d detected %-5v delay %-6v max %.3f drivers %v", h.name, f.Name, f.Windows, f.Detected, f.Delay.Round(time.Millisecond), f.MaxScore, f.Drivers)
			if f.Detected {
				detected++
			}
			if f.Windows > 0 {
				inTrace++
			}
		}
		t.Logf("%s: %d/%d faults detected; %d false alarms in %.1f clean minutes (%.1f per 10 min); clean p99 %.3f; NAB standard %.2f",
			h.name, detected, len(r.Faults), r.FalseAlarms, r.CleanMinutes, 10*float64(r.FalseAlarms)/r.CleanMinutes, r.CleanP99, r.NAB)
		// Regression guards at what was measured (docs/predict.md): the
		// highest feature score catches every fault the trace holds, the
		// joint score two. The goals (delay, false alarms, joint
		// separation) are not met yet and not asserted.
		if want := map[string]int{"joint": 2, "max-feature": inTrace}[h.name]; detected < want {
			t.Errorf("%s: %d faults detected, want at least %d", h.name, detected, want)
		}
	}
}
