package faults

import (
	"errors"
	"math"
	"testing"
	"time"
)

// A lasting rise shows in the minimum over 10 windows (far above the
// clean windows'); a burst of lone samples (every other window) shows
// in the mean and not in the minimum; an unknown feature or span is an
// error.
func TestLevels(t *testing.T) {
	rec := recording("a")
	rec.Labels = append(rec.Labels, Fault{Name: "lone", StartNs: 80e9, EndNs: 90e9})
	for i := 800; i < 900; i += 2 {
		rec.Ws[i].Values[0] += 400 // lone samples, as 1-in-N sampling gives
	}
	o := Options{Warmup: 300, Recovery: 5 * time.Second}
	min, err := Levels(rec.Ws, rec.Names, rec.Labels, o, "syscalls_per_s", Min, 10)
	if err != nil {
		t.Fatal(err)
	}
	if min.Show(0) < 1.3 || min.Show(1) > 1.1 {
		t.Errorf("min over 10: rise %.2f×, lone samples %.2f× the clean maximum; want ≥ 1.3 and ≤ 1.1", min.Show(0), min.Show(1))
	}
	mean, err := Levels(rec.Ws, rec.Names, rec.Labels, o, "syscalls_per_s", Mean, 10)
	if err != nil {
		t.Fatal(err)
	}
	if mean.Show(1) < 2 {
		t.Errorf("mean over 10: lone samples %.2f× the clean maximum, want ≥ 2", mean.Show(1))
	}
	late := append(rec.Labels, Fault{Name: "after", StartNs: 200e9, EndNs: 210e9})
	if e, _ := Levels(rec.Ws, rec.Names, late, o, "syscalls_per_s", Mean, 10); !math.IsNaN(e.Inside[2]) {
		t.Errorf("a fault after the trace: %v, want NaN", e.Inside[2])
	}
	if _, err := Levels(rec.Ws, rec.Names, rec.Labels, o, "nope", Min, 10); !errors.Is(err, ErrFeature) {
		t.Errorf("unknown feature: %v, want ErrFeature", err)
	}
	if _, err := Levels(rec.Ws, rec.Names, rec.Labels, o, "syscalls_per_s", Min, 0); err == nil {
		t.Error("span 0: no error")
	}
}
