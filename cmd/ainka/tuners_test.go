package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With the tuners on (advise, the default), a replay is still bit for bit
// the same every time, and on the CPU trace the CPU tuner names the
// stress-ng workers as batch work, unnamed by anyone.
func TestReplayTunersDeterministic(t *testing.T) {
	dir := t.TempDir()
	var outs [2]string
	for i := range outs {
		tp, dp := filepath.Join(dir, "tune"), filepath.Join(dir, "decide")
		if _, stderr, code := ainka("replay", "../../testdata/traces/cpu.trace", "--tap", "tune="+tp, "--tap", "decide="+dp); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		a, _ := os.ReadFile(tp)
		b, _ := os.ReadFile(dp)
		outs[i] = string(a) + string(b)
	}
	if outs[0] != outs[1] {
		t.Fatal("two replays with tuners differ")
	}
	if !strings.Contains(outs[0], `"policy":"tuner:cpu"`) || !strings.Contains(outs[0], "would set nice pid:") || !strings.Contains(outs[0], "stress-ng-cpu/batch") {
		t.Fatalf("no CPU tuner advice naming stress-ng-cpu:\n%.2000s", outs[0])
	}
	if _, stderr, code := ainka("replay", "../../testdata/traces/cpu.trace", "--tuners", "fast"); code != 2 || !strings.Contains(stderr, `mode "fast"`) {
		t.Fatalf("--tuners fast: exit %d: %s", code, stderr)
	}
}
