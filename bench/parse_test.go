package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseHistogram(t *testing.T) {
	h, err := parseHistogram([]byte("# comment\n000000 000000\n000001 000090\n000002 000009\n# Max Latencies: 05000\n# Histogram Overflows: 00001\n"))
	if err != nil {
		t.Fatal(err)
	}
	if h.quantile(0.5) != 1 || h.quantile(0.99) != 2 || h.quantile(1) != 5000 {
		t.Fatalf("p50 %v p99 %v p100 %v", h.quantile(0.5), h.quantile(0.99), h.quantile(1))
	}
	if _, err := parseHistogram([]byte("# Max Latencies: 00000\n")); err == nil {
		t.Fatal("empty histogram accepted")
	}
	if _, err := parseHistogram([]byte("abc def\n")); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestStressOpsPerSec(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.yaml")
	y := "metrics:\n    - stressor: vm\n      bogo-ops-per-second-real-time: 1.5\n    - stressor: cpu\n      bogo-ops: 687\n      bogo-ops-per-second-real-time: 343.460489\n"
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := stressOpsPerSec(p, "cpu"); err != nil || v != 343.460489 {
		t.Fatalf("cpu = %v, %v", v, err)
	}
	if _, err := stressOpsPerSec(p, "bigheap"); err == nil {
		t.Fatal("missing stressor accepted")
	}
}

func TestParseFioSkipsPreamble(t *testing.T) {
	out := []byte("w: (g=0): rw=write\n{\"jobs\":[{\"jobname\":\"small\",\"sync\":{\"lat_ns\":{\"N\":3,\"percentile\":{\"99.000000\":2000000}}},\"read\":{\"bw\":2048}}]}")
	jobs, err := parseFio(out)
	if err != nil {
		t.Fatal(err)
	}
	if j := jobs["small"]; j.Sync.Lat.N != 3 || j.Sync.Lat.Percentile["99.000000"] != 2e6 || j.Read.BW != 2048 {
		t.Fatalf("job = %+v", j)
	}
	if _, err := parseFio([]byte("fio: error")); err == nil {
		t.Fatal("no JSON accepted")
	}
}

func TestBWLogAndTimeToSteady(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x_bw.1.log")
	if err := os.WriteFile(p, []byte("250, 1024, 0, 4096, 0\n500, 10240, 0, 4096, 0\n750, 102400, 0, 4096, 0\n1000, 102400, 0, 4096, 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pts, err := readBWLog(p)
	if err != nil || len(pts) != 4 || pts[2].V != 100 {
		t.Fatalf("points %v, %v", pts, err)
	}
	if ttb := timeToSteady(pts); ttb != 0.75 {
		t.Fatalf("time to steady = %v, want 0.75", ttb)
	}
}

// TestReadaheadAfterArm: the loop device's readahead after the arm's
// daemon stopped, against the suite's baseline (a temp file stands in
// for /sys/block/loopN/queue/read_ahead_kb).
func TestReadaheadAfterArm(t *testing.T) {
	for _, tc := range []struct {
		name, now string
		left      bool
	}{
		{"tuned restored the baseline", "128", false},
		{"attach's value, arm restored its own change", "2560", false},
		{"arm left its value", "8192", true},
		{"the driver's detach raised the oracle's 16", "2560", false},
	} {
		f := filepath.Join(t.TempDir(), "read_ahead_kb")
		if err := os.WriteFile(f, []byte(tc.now), 0o644); err != nil {
			t.Fatal(err)
		}
		r := &readahead{raFile: f, origRA: "4096", setRA: "2560"}
		if strings.Contains(tc.name, "detach") {
			r.setRA, r.detached = "16", "2560"
		}
		left := r.AfterArm(&Env{Baseline: map[string]string{f: "128"}})
		if (len(left) > 0) != tc.left {
			t.Errorf("%s: left %v", tc.name, left)
		}
		if b, _ := os.ReadFile(f); string(b) != "128" {
			t.Errorf("%s: value %q after AfterArm, want the baseline 128", tc.name, b)
		}
	}
}
