package tune

import (
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/predict"
)

// TestReadaheadFollowsShortPhases: a reader alternates sequential and
// random phases of 3 s, shorter than a trial, while other work swings
// the host's CPU between 20 and 100 % every 0.4 s (so the host regime
// flips all the time). The readahead tuner's trials are the device's
// phase's, not the host regime's: a flip never ends one, a phase change
// pauses it and its return resumes it; each phase's best is learned and
// then re-applied within 1 s of every return, without a trial.
func TestReadaheadFollowsShortPhases(t *testing.T) {
	d := &disk{ra: 128, orig: 128, seq: true,
		speed: map[int]float64{128: 100, 256: 130, 512: 180, 1024: 200},
		rand:  map[int]float64{128: 1000, 64: 1100, 32: 1300, 16: 1250},
	}
	s := newStage(t, "")
	now := uint64(1e12)
	const phase = 30 // windows of 100 ms
	var all []decide.Decision
	var lateRa []int // read_ahead_kb 1 s into each phase, once learned
	for p := 0; p < 40; p++ {
		d.seq = p%2 == 0
		for w := 0; w < phase; w++ {
			d.busy = 0
			if (w/4)%2 == 1 {
				d.busy = 80
			}
			ds := run(t, s, d, &now, 1)
			all = append(all, ds...)
			// Once learned, a phase change is one write: the next phase's
			// setting replaces the last one's (two writes within 1 s
			// are refused by actuate's rate limit).
			for _, x := range ds {
				if p >= 30 && x.Kind != decide.Apply {
					t.Errorf("phase %d: %s %s, want only the learned setting written", p, x.Kind, x.Reason)
				}
			}
			if w == 10 && p >= 30 {
				lateRa = append(lateRa, d.ra)
			}
		}
	}
	if s.reg.nextID < 2 {
		t.Fatalf("the host regime never changed (%d regimes): the test does not test flips", s.reg.nextID)
	}
	resumed := 0
	for _, x := range all {
		if strings.Contains(x.Reason, "regime r") {
			t.Errorf("a readahead decision names a host regime: %s", x.Reason)
		}
		if strings.Contains(x.Reason, "resumed") {
			resumed++
		}
	}
	if resumed == 0 {
		t.Errorf("no trial resumed when its phase returned:\n%s", dump(all))
	}
	seq, ok1 := s.best(phaseRegime, "readahead/loop7/sequential")
	rnd, ok2 := s.best(phaseRegime, "readahead/loop7/random")
	if !ok1 || !ok2 || seq.Value != "1024" || rnd.Value != "32" {
		t.Fatalf("learned %+v %v, %+v %v; want 1024 and 32:\n%s", seq, ok1, rnd, ok2, dump(all))
	}
	for i, ra := range lateRa {
		want := 1024
		if i%2 == 1 {
			want = 32
		}
		if ra != want {
			t.Errorf("phase %d: read_ahead_kb %d 1 s after it began, want %d", 30+i, ra, want)
		}
	}
	if len(s.ttb) < 10 {
		t.Fatalf("time to best measured %d times", len(s.ttb))
	}
	for _, ns := range s.ttb {
		if ns > uint64(time.Second) {
			t.Errorf("time to best %v, want within 1 s", time.Duration(ns))
		}
	}
	t.Logf("%d decisions, %d resumed trials; time to best %v … %v", len(all), resumed, time.Duration(s.ttb[0]), time.Duration(s.ttb[len(s.ttb)-1]))
}

// TestReadaheadLeavesLightReadsAlone: a device read at 30 random 4 KiB
// requests/s (the host disk under other people's builds) is classified
// but not a readahead target: nothing is tried on it.
func TestReadaheadLeavesLightReadsAlone(t *testing.T) {
	d := &disk{ra: 128, orig: 128, rand: map[int]float64{128: 30, 64: 60, 32: 90, 16: 120}}
	s := newStage(t, "")
	now := uint64(1e12)
	if ds := run(t, s, d, &now, 100); len(ds) != 0 {
		t.Fatalf("%d decisions on a device read at 30 requests/s:\n%s", len(ds), dump(ds))
	}
	if c, _ := classifyDevice(&s.tr.devs[0]); c != Random {
		t.Fatalf("device classified %v: the test does not test the floor", c)
	}
	d.rand[128] = 300 // now it matters
	if ds := run(t, s, d, &now, 100); len(ds) == 0 {
		t.Fatal("no trial on a device read at 300 requests/s")
	}
}

// TestBanditSeparated: a phased trial settles early only when every
// setting was measured and the leader beats the others by more than
// three standard errors (or by less than minGain, a tie).
func TestBanditSeparated(t *testing.T) {
	for _, c := range []struct {
		name   string
		reward []float64
		se     []float64
		want   bool
	}{
		{"clear winner", []float64{0, 0.1, 0.4}, []float64{0.02, 0.02, 0.03}, true},
		{"within the noise", []float64{0, 0.1, 0.2}, []float64{0.05, 0.05, 0.05}, false},
		{"tie at the top", []float64{0, 0.41, 0.4}, []float64{0.02, 0.05, 0.05}, true},
		{"original best", []float64{0, -0.3, -0.5}, []float64{0.03, 0.03, 0.03}, true},
		{"one untried", []float64{0, 0.4}, []float64{0.01, 0.01}, false},
	} {
		b := bandit{n: 3}
		for i := range c.reward {
			b.update(i, c.reward[i])
			b.noteSE(i, c.se[i])
		}
		if got := b.separated(); got != c.want {
			t.Errorf("%s: separated %v, want %v", c.name, got, c.want)
		}
	}
}

// TestReadaheadLoopNotItsDisk: a loop device and the disk holding its
// backing file are read in the same pattern (the disk a little more: its
// own traffic too). The loop is the target; the disk under it is left
// alone.
func TestReadaheadLoopNotItsDisk(t *testing.T) {
	d := &disk{ra: 128, orig: 128, seq: true, speed: map[int]float64{128: 100, 256: 130, 512: 180, 1024: 200}}
	names := map[uint32]string{7 << 20: "loop7", 253 << 20: "vda"}
	s, err := New(Config{Readahead: Act, EffectWindow: time.Second,
		DeviceName:  func(dev uint32) string { return names[dev] },
		ReadaheadKB: func(string) (int, error) { return 128, nil },
		LoopBacking: func(l string) string { return map[string]string{"loop7": "vda"}[l] }})
	if err != nil {
		t.Fatal(err)
	}
	now := uint64(1e12)
	for i := 0; i < 100; i++ {
		now += win
		o := d.vector(now)
		v := &o.Vector
		v.Devices[1] = v.Devices[0]
		v.Devices[1].Dev, v.Devices[1].IOPS = 253<<20, v.Devices[0].IOPS*1.2
		v.NumDevices = 2
		out := s.Process([]predict.Output{o}, nil)
		for _, x := range out[0].Dec[:out[0].NDec] {
			if strings.Contains(x.Reason, "vda") {
				t.Fatalf("the disk under loop7 was tuned: %s", x.Reason)
			}
		}
		d.apply(t, out[0].Dec[:out[0].NDec])
	}
	if d.ra == 128 {
		t.Fatal("loop7 was not tuned either")
	}
}
