package forecast

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestParamsValidate(t *testing.T) {
	for _, p := range []Params{
		{Order: 0, Horizon: 1, Lambda: 1, Batch: 1, Cover: 0.95},
		{Order: 1, Horizon: MaxHorizon + 1, Lambda: 1, Batch: 1, Cover: 0.95},
		{Order: 1, Horizon: 1, Lambda: 0, Batch: 1, Cover: 0.95},
		{Order: 1, Horizon: 1, Lambda: 1, Batch: 0, Cover: 0.95},
		{Order: 1, Horizon: 1, Lambda: 1, Batch: 1, Cover: 1},
	} {
		if _, err := New(p); !errors.Is(err, ErrParams) {
			t.Errorf("%+v: err %v, want ErrParams", p, err)
		}
	}
}

// An AR(2) process is forecast better than naive, and about 95% of the
// targets fall inside the interval.
func TestAR2(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	xs := make([]float64, 6000)
	for i := 2; i < len(xs); i++ {
		xs[i] = 1.2*xs[i-1] - 0.5*xs[i-2] + r.NormFloat64()
	}
	for _, h := range []int{1, 3} {
		ev, err := Evaluate(xs, DefaultParams(h), 1000)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("h=%d: MASE %.3f coverage %.3f", h, ev.MASE, ev.Coverage)
		if ev.MASE > 0.9 {
			t.Errorf("h=%d: MASE %.3f, want < 0.9", h, ev.MASE)
		}
		if ev.Coverage < 0.9 || ev.Coverage > 0.99 {
			t.Errorf("h=%d: interval coverage %.3f, want about 0.95", h, ev.Coverage)
		}
	}
}

func TestBatchUpdatesAtBatchEnds(t *testing.T) {
	p := DefaultParams(2)
	p.Batch = 10
	f, _ := New(p)
	prev := f.S.W
	for i := 0; i < 200; i++ {
		f.Update(math.Sin(float64(i) / 5))
		if f.S.W != prev {
			if (f.S.N-2)%10 != 0 {
				t.Fatalf("coefficients changed after %d samples, not at a batch end", f.S.N)
			}
			prev = f.S.W
		}
	}
}

func TestMissingAndFrozen(t *testing.T) {
	f, _ := New(DefaultParams(1))
	for i := 0; i < 100; i++ {
		f.Update(float64(i % 7))
	}
	n := f.S.N
	if fc := f.Update(math.NaN()); !math.IsNaN(fc.Value) || f.S.N != n {
		t.Error("NaN changed the forecaster or gave a forecast")
	}
	f.Freeze(true)
	w := f.S.W
	for i := 0; i < 100; i++ {
		f.Update(float64(i))
	}
	if f.S.W != w {
		t.Error("frozen forecaster learned")
	}
}

func BenchmarkUpdate(b *testing.B) {
	f, _ := New(DefaultParams(10))
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 4096)
	for i := range xs {
		xs[i] = math.Sin(float64(i)/10) + r.NormFloat64()*0.1
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.Update(xs[i&4095])
	}
}

// In the cold start (fewer than minScored h-step errors) the forecast is
// the running median for a series that scatters around a level and the
// naive one for a series that wanders, and on the scattering series it
// beats naive over its first 2h forecasts.
func TestColdStart(t *testing.T) {
	const h = 10
	r := rand.New(rand.NewPCG(4, 4))
	noisy := make([]float64, 3*h)
	ramp := make([]float64, 3*h)
	for i := range noisy {
		noisy[i] = 100 + 10*r.NormFloat64()
		if i%7 == 3 {
			noisy[i] += 200 // bursts
		}
		ramp[i] = float64(5 * i)
	}
	ev, err := Evaluate(noisy, DefaultParams(h), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bursty noise: cold-start MASE %.3f over %d forecasts", ev.MASE, ev.N)
	if !(ev.MASE < 0.8) {
		t.Errorf("bursty noise: cold-start MASE %.3f over %d forecasts, want < 0.8", ev.MASE, ev.N)
	}
	f, _ := New(DefaultParams(h))
	for i, x := range ramp {
		fc := f.Update(x)
		if f.S.Scored < minScored && fc.Value != x {
			t.Fatalf("ramp, sample %d: cold-start forecast %v, want the naive %v", i, fc.Value, x)
		}
	}
}
