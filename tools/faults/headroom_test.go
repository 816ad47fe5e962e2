package faults

import (
	"errors"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/predict/alarm"
)

// The rise of 12 sd stands far above the clean windows' largest lasting
// deviation; a "fault" labelled over plain noise does not (ratio about 1
// or below); a lasting rise no larger than the clean windows' largest
// (a second rise of the same size labelled clean) leaves no headroom.
func TestHeadrooms(t *testing.T) {
	rec := recording("a")
	rec.Labels = append(rec.Labels, Fault{Name: "noise", StartNs: 80e9, EndNs: 90e9})
	o := Options{Warmup: 300, Recovery: 5 * time.Second}
	hs, err := Headrooms(rec.Ws, rec.Names, rec.Labels, alarm.DefaultParams(), o)
	if err != nil {
		t.Fatal(err)
	}
	if hs[0].Fault != "rise" || hs[0].Feature != "syscalls_per_s" || hs[0].Ratio < 3 || hs[0].Inside <= hs[0].Clean {
		t.Errorf("rise: %+v, want syscalls_per_s at ≥ 3× its clean maximum", hs[0])
	}
	if hs[1].Ratio > 1.5 {
		t.Errorf("noise labelled a fault: %+v, want a ratio ≤ 1.5", hs[1])
	}
	// The same rise also at 40–50 s, labelled clean: no headroom.
	for i := 400; i < 500; i++ {
		rec.Ws[i].Values[0] += 60
	}
	hs, err = Headrooms(rec.Ws, rec.Names, rec.Labels[:1], alarm.DefaultParams(), o)
	if err != nil {
		t.Fatal(err)
	}
	if hs[0].Ratio > 1.5 {
		t.Errorf("rise after an equal clean rise: %+v, want a ratio ≤ 1.5", hs[0])
	}
	if _, err := Headrooms(rec.Ws, []string{"no_such_feature"}, rec.Labels, alarm.DefaultParams(), o); !errors.Is(err, ErrFeature) {
		t.Errorf("unknown feature: %v, want ErrFeature", err)
	}
	if _, err := Headrooms(rec.Ws, rec.Names, rec.Labels, alarm.Params{}, o); !errors.Is(err, alarm.ErrParams) {
		t.Errorf("bad params: %v, want ErrParams", err)
	}
}
