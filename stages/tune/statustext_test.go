package tune

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStatusText: after the readahead tuner has learned the sequential
// phase on the fake disk, its status says what it tunes, why, what it
// kept and what it measured, as text and as JSON.
func TestStatusText(t *testing.T) {
	d := &disk{ra: 128, orig: 128, seq: true,
		speed: map[int]float64{128: 100, 256: 40, 512: 180, 1024: 200},
	}
	s := newStage(t, "")
	now := uint64(1e12)
	run(t, s, d, &now, 150)
	st := s.Status()
	var b strings.Builder
	if err := st.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"followed:  0 tasks, 1 block devices",
		"readahead    act   settled  readahead/loop7/sequential (loop7)  1024     4       +100%  5",
		"  readahead: sequential, confidence 0.60: loop7: 95% of requests continue the previous one",
		"loop7   sequential  1.00        loop7: 95%",
		"any     readahead/loop7/sequential  1024  +100%          4",
		"cpu          off   idle     -",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status text lacks %q:\n%s", want, out)
		}
	}
	var back Status
	js, _ := json.Marshal(st)
	if err := json.Unmarshal(js, &back); err != nil || len(back.Entities) != 1 || back.Best[0].Value != "1024" || back.Tuners[1].Steps != 4 {
		t.Errorf("JSON round trip: %v %s", err, js)
	}
}
