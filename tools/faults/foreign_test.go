package faults

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// decodeLines builds a decode tap: a host sample at 0, then per second
// k the given number of sampled switches of task comm (to idle).
func decodeLines(perSec map[int]struct {
	comm string
	n    int
}) string {
	var b strings.Builder
	b.WriteString(`{"kind":"host_sample","ts_ns":1000000000,"comm":"host"}` + "\n")
	for k := 0; k < 5; k++ {
		p := perSec[k]
		for i := 0; i < p.n; i++ {
			fmt.Fprintf(&b, `{"kind":"sched_switch","ts_ns":%d,"comm":%q,"next_comm":"swapper/0"}`+"\n", 1e9+uint64(k)*1e9+uint64(i)*1e6, p.comm)
		}
	}
	return b.String()
}

// Another job's 10 sampled switches in second 1 (× 48 = 480 per s) make
// it foreign; the benchmark's own dd in second 2 and 5 of another job's
// in second 3 (240 per s) do not.
func TestReadForeign(t *testing.T) {
	in := decodeLines(map[int]struct {
		comm string
		n    int
	}{1: {"go", 10}, 2: {"dd", 30}, 3: {"compile", 5}, 4: {"kworker/0:1", 30}})
	f, err := ReadForeign(strings.NewReader(in), 48, ForeignRate)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{false, true, false, false, false}
	if fmt.Sprint(f.Secs) != fmt.Sprint(want) || f.T0 != 1e9 {
		t.Fatalf("seconds %v from %d, want %v from 1e9", f.Secs, f.T0, want)
	}
	if !f.At(2e9+5e8) || f.At(3e9) || f.At(5e8) || f.At(100e9) {
		t.Error("At: want only [2 s, 3 s) foreign")
	}
}

func TestReadForeignBadInput(t *testing.T) {
	for name, in := range map[string]string{"empty": "", "not json": "{\n", "no kind": `{"ts_ns":1}` + "\n"} {
		if _, err := ReadForeign(strings.NewReader(in), 48, ForeignRate); !errors.Is(err, ErrDecode) {
			t.Errorf("%s: %v, want ErrDecode", name, err)
		}
	}
	if _, err := ReadForeign(strings.NewReader(""), 0, ForeignRate); err == nil || !strings.Contains(err.Error(), "sampling 0") {
		t.Errorf("sampling 0: %v", err)
	}
}

// A clean alarm inside a foreign second is not counted once the foreign
// seconds are excluded; one outside still is; the fault is unaffected.
func TestExcludeForeign(t *testing.T) {
	var ws []Window
	for i := 1; i <= 50; i++ {
		end := 1e9 + uint64(i)*100e6
		a := 0.1
		if end == 2200e6 || end == 3500e6 || (end > 5000e6 && end <= 5500e6) {
			a = 0.9
		}
		ws = append(ws, Window{EndNs: end, Alarm: a})
	}
	faults := []Fault{{Name: "f", StartNs: 5000e6, EndNs: 5600e6}}
	f := Foreign{T0: 1e9, Secs: []bool{false, true, false, false, false}}
	o := Options{Threshold: 0.8}
	if r := Score(ws, nil, faults, Alarm, o); r.FalseAlarms != 2 || !r.Faults[0].Detected {
		t.Fatalf("without exclusion: %d false alarms, detected %v; want 2, true", r.FalseAlarms, r.Faults[0].Detected)
	}
	o.Exclude = f.At
	r := Score(ws, nil, faults, Alarm, o)
	if r.FalseAlarms != 1 || !r.Faults[0].Detected || r.CleanWindows != 34 {
		t.Errorf("excluding second 1: %d false alarms in %d clean windows, detected %v; want 1 in 34, true", r.FalseAlarms, r.CleanWindows, r.Faults[0].Detected)
	}
	cs := ForeignWindows(ws, faults, o, f)
	if fmt.Sprint(cs) != "[{clean 10 44} {f 0 6}]" {
		t.Errorf("foreign windows %v, want clean 10 of 44, f 0 of 6", cs)
	}
}
