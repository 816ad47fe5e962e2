package faults

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const ms = uint64(time.Millisecond)

// A 100 ms series: quiet, one fault from 10 s to 12 s whose alarm comes
// 300 ms in (driven by feature b), one clean false alarm at 20 s.
func TestScoreByHand(t *testing.T) {
	var tap strings.Builder
	for i := 1; i <= 300; i++ {
		end := uint64(i) * 100 * ms
		a, b, joint := "0.1", "0.2", "0.1"
		if end > 10300*ms && end <= 12000*ms {
			b, joint = "0.9", "0.8"
		}
		if end == 20000*ms {
			a, joint = "0.95", "0.7"
		}
		tap.WriteString(`{"start_ns":0,"end_ns":` + strconv.FormatUint(end, 10) + `,"horizon_ns":1,"joint_score":` + joint +
			`,"features":{"b":{"value":1,"score":` + b + `},"a":{"value":1,"score":` + a + `},"c":{"value":1,"score":null}}}` + "\n")
	}
	ws, names, err := ReadTap(strings.NewReader(tap.String()))
	if err != nil || len(ws) != 300 || strings.Join(names, ",") != "a,b,c" || !math.IsNaN(ws[0].Scores[2]) {
		t.Fatalf("ReadTap: %d windows, names %v, err %v", len(ws), names, err)
	}
	faults := []Fault{{Name: "f", StartNs: 10000 * ms, EndNs: 12000 * ms}}
	r := Score(ws, names, faults, MaxFeature, Options{Threshold: 0.65, Warmup: 50, Recovery: time.Second})
	f := r.Faults[0]
	if f.Windows != 20 || !f.Detected || f.Delay != 400*time.Millisecond || f.MaxScore != 0.9 || strings.Join(f.Drivers, ",") != "b,a" {
		t.Errorf("fault: %+v; want detected after 400ms, max 0.9, drivers b,a", f)
	}
	// Clean: windows 51–100 and 131–300 (recovery to 13 s) = 220.
	if r.FalseAlarms != 1 || r.CleanWindows != 220 || r.CleanP99 != 0.2 {
		t.Errorf("clean: %d false alarms, %d windows, p99 %v; want 1, 220, 0.2", r.FalseAlarms, r.CleanWindows, r.CleanP99)
	}
	if math.Abs(r.CleanMinutes-220*0.1/60) > 1e-9 || !(r.NAB > 0 && r.NAB < 100) {
		t.Errorf("clean minutes %v, NAB %v", r.CleanMinutes, r.NAB)
	}
	if j := Score(ws, names, faults, Joint, Options{Threshold: 0.75, Warmup: 50, Recovery: time.Second}); j.FalseAlarms != 0 || !j.Faults[0].Detected {
		t.Errorf("joint at 0.75: %+v", j)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, body string }{
		{"not json", "{"},
		{"no faults", `{"faults": []}`},
		{"empty fault", `{"faults": [{"name": "x", "start_ns": 5, "end_ns": 5}]}`},
		{"overlap", `{"faults": [{"name": "x", "start_ns": 1, "end_ns": 9}, {"name": "y", "start_ns": 5, "end_ns": 12}]}`},
	} {
		p := filepath.Join(dir, "l.json")
		os.WriteFile(p, []byte(c.body), 0o644)
		if _, err := ReadLabels(p); !errors.Is(err, ErrLabels) {
			t.Errorf("%s: %v, want ErrLabels", c.name, err)
		}
	}
	for _, body := range []string{"", "not json\n", `{"end_ns":1,"features":{"a":{}}}` + "\n" + `{"end_ns":2,"features":{"zz":{}}}` + "\n",
		`{"faults": [{"name": "a", "start_ns": 1, "end_ns": 2}]}` + "\n"} { // a labels file given as the tap
		if _, _, err := ReadTap(strings.NewReader(body)); !errors.Is(err, ErrTap) {
			t.Errorf("tap %q: %v, want ErrTap", body, err)
		}
	}
}
