package alarm

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ainka/ainka/stages/features"
)

// noise fills x with one window of clean, independent noise around 100.
func noise(r *rand.Rand, x *[features.Count]float64) {
	for i := range x {
		x[i] = 100 + 5*r.NormFloat64()
	}
}

// Clean noise raises no alarm; a lasting rise of one feature does, at
// within a second, naming it; so does a fall of mem_available_mb (its
// harmful direction); a fall of another feature alarms only when the
// alarm is two-sided (the cross-validated default).
func TestAlarmOnLastingDeviation(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Host
	h.Init(DefaultParams())
	var x [features.Count]float64
	alarms := 0
	for k := 0; k < 6000; k++ {
		noise(r, &x)
		if res := h.Update(&x); res.Level >= Enter {
			alarms++
		}
	}
	if alarms != 0 {
		t.Errorf("%d alarms in 6000 windows of clean noise", alarms)
	}
	for _, c := range []struct {
		id    features.ID
		shift float64
		want  bool
	}{{features.SyscallErrorsPerS, 60, true}, {features.MemAvailableMB, -60, true}, {features.WakeupsPerS, -60, !DefaultParams().OneSided}} {
		fired := -1
		for k := 0; k < 30; k++ {
			noise(r, &x)
			x[c.id] += c.shift
			if res := h.Update(&x); res.Level >= Enter && fired < 0 {
				fired = k
				if res.NDrivers < 1 || res.Drivers[0] != c.id || res.Names()[0] != c.id.String() {
					t.Errorf("%v: drivers %v", c.id, res.Names())
				}
			}
		}
		if (fired >= 0) != c.want || fired > 10 {
			t.Errorf("%v shifted by %v: first alarm at window %d, want alarm %v within 10", c.id, c.shift, fired, c.want)
		}
		for k := 0; k < 3000; k++ { // recover
			noise(r, &x)
			h.Update(&x)
		}
	}
}

// NaN and ±Inf are missing: no alarm, no learning, nothing poisoned.
func TestAlarmMissingValues(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var h Host
	h.Init(DefaultParams())
	var x [features.Count]float64
	for k := 0; k < 2000; k++ {
		noise(r, &x)
		switch k % 3 {
		case 0:
			x[2] = math.NaN()
		case 1:
			x[2] = math.Inf(1)
		}
		if res := h.Update(&x); res.Level >= Enter || math.IsNaN(res.Level) {
			t.Fatalf("window %d: level %v with missing values", k, res.Level)
		}
	}
	if m := h.S.S[2].Mean; math.Abs(m-100) > 5 {
		t.Errorf("baseline of the gappy feature %v, want about 100", m)
	}
}

func TestAlarmParams(t *testing.T) {
	if err := DefaultParams().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Params{{Smooth: 0}, {Smooth: 40}, {Smooth: 5, Factor: 0.5}, {Smooth: 5, Factor: 1, Decay: 0}} {
		if err := p.Validate(); !errors.Is(err, ErrParams) {
			t.Errorf("%+v: %v, want ErrParams", p, err)
		}
	}
	bad := DefaultParams()
	bad.Floor = math.NaN()
	if err := bad.Validate(); !errors.Is(err, ErrParams) {
		t.Errorf("NaN floor: %v", err)
	}
	for _, f := range []func(p *Params){
		func(p *Params) { p.Quick = p.Smooth },           // not faster than the sustained path
		func(p *Params) { p.QuickFactor = p.Factor / 2 }, // below the sustained path's factor
		func(p *Params) { p.Sustained = false },          // the quick path belongs to the sustained rule
		func(p *Params) { p.QuickFactor = math.Inf(1) },
		func(p *Params) { p.PSIFloor = -1 },
		func(p *Params) { p.PSIFloor = math.NaN() },
	} {
		p := DefaultParams()
		f(&p)
		if err := p.Validate(); !errors.Is(err, ErrParams) {
			t.Errorf("%+v: %v, want ErrParams", p, err)
		}
	}
}

// Update is allocation-free (it runs every window for every feature).
func TestAlarmAllocs(t *testing.T) {
	h, x := warmHost()
	if n := testing.AllocsPerRun(1000, func() { x[0] += 0.001; h.Update(x) }); n != 0 {
		t.Errorf("%v allocations per update", n)
	}
}

func BenchmarkUpdate(b *testing.B) {
	h, x := warmHost()
	b.ReportAllocs()
	for b.Loop() {
		x[0] += 0.001
		h.Update(x)
	}
}

// BenchmarkUpdateMean is the mean rule (alarm.MeanParams), the earlier
// default, for the ratio with BenchmarkUpdate in one run.
func BenchmarkUpdateMean(b *testing.B) {
	h, x := warmHost()
	h.Init(MeanParams())
	r := rand.New(rand.NewPCG(5, 6))
	for k := 0; k < 400; k++ {
		noise(r, x)
		h.Update(x)
	}
	b.ReportAllocs()
	for b.Loop() {
		x[0] += 0.001
		h.Update(x)
	}
}

// warmHost is a host past its warm-up on noise, and a window of noise.
func warmHost() (*Host, *[features.Count]float64) {
	h, x := &Host{}, &[features.Count]float64{}
	h.Init(DefaultParams())
	r := rand.New(rand.NewPCG(5, 6))
	for k := 0; k < 400; k++ {
		noise(r, x)
		h.Update(x)
	}
	return h, x
}

// shiftAlarm runs p over clean noise, then shifts one feature by 60 (12
// sd) and returns the first window of the shift that alarms (-1: none).
// Before the shift, with burst, every 40th window carries a one-window burst of 200
// sd on that feature; it returns how many of them alarmed too.
func shiftAlarm(t *testing.T, p Params, burst bool) (first, bursts int) {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 8))
	var h Host
	h.Init(p)
	var x [features.Count]float64
	id := features.SyscallsPerS
	for k := 0; k < 2000; k++ {
		noise(r, &x)
		if burst && k > p.Warmup && k%40 == 0 {
			x[id] += 1000
		}
		if res := h.Update(&x); res.Level >= Enter {
			bursts++
		}
	}
	for k := 0; k < 30; k++ {
		noise(r, &x)
		x[id] += 60
		if res := h.Update(&x); res.Level >= Enter {
			return k, bursts
		}
	}
	return -1, bursts
}

// Median: a one-window burst never moves the median of 5, a lasting shift
// does within 3 windows; the mean alarms on the first burst.
func TestMedianIgnoresBursts(t *testing.T) {
	p := MeanParams()
	if _, bursts := shiftAlarm(t, p, true); bursts == 0 {
		t.Errorf("mean: no burst alarmed; the test shows nothing")
	}
	p.Median = true
	first, bursts := shiftAlarm(t, p, true)
	if bursts != 0 || first < 0 || first > 3 {
		t.Errorf("median: %d burst alarms, shift alarmed at window %d; want 0 and within 3", bursts, first)
	}
}

// Hold delays an alarm by Hold-1 windows and nothing else.
func TestHold(t *testing.T) {
	p := MeanParams()
	p.Smooth = 10 // a ratio that stays >= 1 for several windows
	at1, _ := shiftAlarm(t, p, false)
	p.Hold = 3
	at3, _ := shiftAlarm(t, p, false)
	if at1 < 0 || at3 != at1+2 {
		t.Errorf("shift alarmed at window %d with hold 1, %d with hold 3; want 2 later", at1, at3)
	}
	p.Hold = 0
	if err := p.Validate(); !errors.Is(err, ErrParams) {
		t.Errorf("hold 0: %v, want ErrParams", err)
	}
}

func TestMedianAllocs(t *testing.T) {
	h, x := warmHost()
	p := h.Params()
	p.Median, p.Smooth = true, MaxSmooth
	h.Init(p)
	if n := testing.AllocsPerRun(1000, func() { x[0] += 0.001; h.Update(x) }); n != 0 {
		t.Errorf("%v allocations per update with the median of %d", n, MaxSmooth)
	}
}

// Sustained: a one-window burst of 200 sd never alarms (one window of the
// last Smooth is at the baseline); a lasting shift of 12 sd does once it
// has lasted Smooth windows, and not before.
func TestSustainedIgnoresBursts(t *testing.T) {
	p := DefaultParams()
	p.Sustained, p.Quick, p.QuickFactor = true, 0, 0 // the quick path: TestQuickPath
	first, bursts := shiftAlarm(t, p, true)
	if bursts != 0 || first != p.Smooth-1 {
		t.Errorf("sustained: %d burst alarms, shift alarmed at window %d; want 0 and at window %d", bursts, first, p.Smooth-1)
	}
	p.OneSided = true // a rise of syscalls is the harmful direction
	if first, bursts = shiftAlarm(t, p, true); bursts != 0 || first != p.Smooth-1 {
		t.Errorf("sustained, one-sided: %d burst alarms, shift alarmed at window %d; want 0 and %d", bursts, first, p.Smooth-1)
	}
}

// The quick path: a large shift (12 sd) alarms after Quick windows, not
// Smooth; one-window bursts and a burst one window shorter than Quick,
// however large, still do not alarm.
func TestQuickPath(t *testing.T) {
	p := DefaultParams()
	if p.Quick == 0 {
		t.Fatal("the default has no quick path")
	}
	first, bursts := shiftAlarm(t, p, true)
	if bursts != 0 || first != p.Quick-1 {
		t.Errorf("quick %d: %d burst alarms, shift alarmed at window %d; want 0 and window %d", p.Quick, bursts, first, p.Quick-1)
	}
	slow := p
	slow.Quick, slow.QuickFactor = 0, 0
	if first, _ = shiftAlarm(t, slow, false); first != p.Smooth-1 {
		t.Errorf("without the quick path the shift alarmed at window %d, want %d", first, p.Smooth-1)
	}
	h, x := warmHost()
	for k := 0; k < p.Quick-1; k++ {
		x[features.SyscallsPerS] = 100 + 1000
		if res := h.Update(x); res.Level >= Enter {
			t.Errorf("a burst of %d windows alarmed at its window %d", p.Quick-1, k)
		}
	}
}

// PSIFloor: a stall share that was 0 in every window has no noise scale
// and cannot alarm; with the floor, a lasting 5 % stall does, and a
// lasting 0.2 % does not.
func TestPSIFloor(t *testing.T) {
	for _, c := range []struct {
		floor, stall float64
		want         bool
	}{{0, 5, false}, {0.5, 5, true}, {0.5, 0.2, false}} {
		p := DefaultParams()
		p.PSIFloor = c.floor
		var h Host
		h.Init(p)
		x := &[features.Count]float64{}
		r := rand.New(rand.NewPCG(9, 10))
		fired := false
		for k := 0; k < 3000; k++ {
			noise(r, x)
			x[features.PSIMemSomePct] = 0
			if k >= 2980 {
				x[features.PSIMemSomePct] = c.stall
			}
			if res := h.Update(x); res.Level >= Enter {
				if k < 2980 {
					t.Errorf("floor %v: clean window %d alarmed (%v)", c.floor, k, res.Names())
					break
				}
				fired = fired || res.Drivers[0] == features.PSIMemSomePct
			}
		}
		if fired != c.want {
			t.Errorf("floor %v, a stall of %v%% for 20 windows: alarm %v, want %v", c.floor, c.stall, fired, c.want)
		}
	}
}

// Result.Joint: 0 on clean noise's warm-up, small after it; a lasting
// shift of one feature gives that feature's deviation over its alarm
// point; the same shift in two features √2 times as much, in five only
// √3 times (the three largest count); Joint never exceeds √3 × maxNorm.
func TestJoint(t *testing.T) {
	shifted := func(n int) float64 {
		r := rand.New(rand.NewPCG(5, 6))
		var h Host
		h.Init(DefaultParams())
		var x [features.Count]float64
		var clean float64
		for k := 0; k < 3000; k++ {
			noise(r, &x)
			res := h.Update(&x)
			if k < DefaultParams().Warmup && res.Joint != 0 {
				t.Fatalf("window %d (warm-up): joint %v", k, res.Joint)
			}
			clean = math.Max(clean, res.Joint)
		}
		if clean >= 1 {
			t.Errorf("clean noise: joint up to %v, want < 1 (no alarm point)", clean)
		}
		var res Result
		for k := 0; k < 10; k++ {
			noise(r, &x)
			for i := 0; i < n; i++ {
				x[i] += 40
			}
			res = h.Update(&x)
		}
		return res.Joint
	}
	one, two, five := shifted(1), shifted(2), shifted(5)
	if one < 1 {
		t.Errorf("one feature shifted by 8 sd: joint %v, want ≥ 1 (past its alarm point)", one)
	}
	if r := two / one; math.Abs(r-math.Sqrt2) > 0.25 {
		t.Errorf("two features shifted: joint %v = %.2f × one's, want about √2", two, r)
	}
	if r := five / one; math.Abs(r-math.Sqrt(3)) > 0.3 {
		t.Errorf("five features shifted: joint %v = %.2f × one's, want about √3 (three largest)", five, r)
	}
	var h Host
	h.Init(Params{Smooth: 2, Factor: 1, Decay: 1, Alpha: 1, Hold: 1, Sustained: true})
	var x [features.Count]float64
	for k := 0; k < 50; k++ {
		for i := range x {
			x[i] = float64(k%2) * 1e-6 // a tiny noise scale, then an absurd value
		}
		if k > 40 {
			x = [features.Count]float64{}
			for i := range x {
				x[i] = 1e300
			}
		}
		if res := h.Update(&x); res.Joint > math.Sqrt(3)*maxNorm+1e-9 || math.IsNaN(res.Joint) {
			t.Fatalf("window %d: joint %v, want ≤ √3 × %v", k, res.Joint, float64(maxNorm))
		}
	}
}

// A sampled counter arrives as lone heavy samples (1 in 512 syscalls:
// 0, or 5120/s and more, in a 100 ms window). A storm of 17 times the
// rate (samples more frequent and heavier, as the kernel's adaptive
// sampling gives) still leaves empty windows between them, so the
// sustained rule's minimum stays at 0 for its 3 s; averaged first (the
// default's Smoothed syscall_errors_per_s) it alarms within them, and
// the same counter's clean lumps never do.
func TestSmoothedCounter(t *testing.T) {
	run := func(p Params) (clean, first int) {
		r := rand.New(rand.NewPCG(11, 12))
		var h Host
		h.Init(p)
		var x [features.Count]float64
		lumpy := func(prob, weight float64) float64 {
			if r.Float64() < prob {
				return weight * 5120 * float64(int(1)<<r.IntN(3))
			}
			return 0
		}
		for k := 0; k < 6000; k++ {
			noise(r, &x)
			x[features.SyscallErrorsPerS] = lumpy(0.3, 1)
			if h.Update(&x).Level >= Enter {
				clean++
			}
		}
		first = -1
		for k := 0; k < 30 && first < 0; k++ {
			noise(r, &x)
			x[features.SyscallErrorsPerS] = lumpy(0.5, 10)
			if res := h.Update(&x); res.Level >= Enter && res.Drivers[0] == features.SyscallErrorsPerS {
				first = k
			}
		}
		return clean, first
	}
	p := DefaultParams()
	if p.Smoothed != 1<<features.SyscallErrorsPerS || p.Span != 10 {
		t.Fatalf("default smoothed %#x span %d, want syscall_errors_per_s over 10", p.Smoothed, p.Span)
	}
	if clean, first := run(p); clean != 0 || first < 0 {
		t.Errorf("smoothed: %d clean alarms, storm alarmed at window %d; want 0 and within 30", clean, first)
	}
	p.Smoothed, p.Span = 0, 0
	if clean, first := run(p); clean != 0 || first >= 0 {
		t.Errorf("not smoothed: %d clean alarms, storm alarmed at window %d; want 0 and never", clean, first)
	}
	for _, bad := range [][2]int{{int(features.Count), 10}, {int(features.SyscallErrorsPerS), 0}, {int(features.SyscallErrorsPerS), MaxSpan + 1}} {
		q := DefaultParams()
		q.Smoothed, q.Span = 1<<bad[0], bad[1]
		if err := q.Validate(); !errors.Is(err, ErrParams) {
			t.Errorf("smoothed bit %d span %d: %v, want ErrParams", bad[0], bad[1], err)
		}
	}
}
