package tune

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

const win = uint64(100e6)

// disk is a fake block device at the kernel boundary: its read progress
// depends on read_ahead_kb and on the phase's pattern, as the tuner's
// decisions set it.
type disk struct {
	ra    int
	orig  int
	seq   bool
	speed map[int]float64 // progress by read_ahead_kb, per phase
	rand  map[int]float64
	busy  float64 // CPU busy % of other work, on top of 20
}

func (d *disk) vector(now uint64) predict.Output {
	var o predict.Output
	v := &o.Vector
	v.StartNs, v.EndNs = now-win, now
	for i := range v.Values {
		v.Values[i] = 0
	}
	v.Values[features.CPUBusyPct] = 20 + d.busy
	f := &v.Devices[0]
	v.NumDevices = 1
	f.Dev, f.ReadRequestsPct = 7<<20, 100
	if d.seq {
		f.SeqRatio, f.ReadBytesPerS = 0.95, d.speed[d.ra]*1e6
		f.IOPS = f.ReadBytesPerS / float64(d.ra*1024)
	} else {
		f.SeqRatio, f.IOPS = 0.02, d.rand[d.ra]
		f.ReadBytesPerS = f.IOPS * 4096
	}
	f.IOs = uint64(f.IOPS / 10)
	v.Values[features.BlkIOPS] = f.IOPS
	return o
}

// apply plays the tuners' decisions on the fake device.
func (d *disk) apply(t *testing.T, ds []decide.Decision) {
	for _, x := range ds {
		if x.Action.Kind != action.Readahead {
			continue
		}
		switch x.Kind {
		case decide.Apply:
			n, err := strconv.Atoi(x.Action.Value)
			if err != nil {
				t.Fatal(err)
			}
			d.ra = n
		case decide.Revert:
			d.ra = d.orig
		}
	}
}

func newStage(t *testing.T, model string) *Stage {
	t.Helper()
	s, err := New(Config{Readahead: Act, EffectWindow: time.Second, ModelPath: model,
		DeviceName: func(uint32) string { return "loop7" }, ReadaheadKB: func(string) (int, error) { return 128, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run feeds n windows and returns every decision.
func run(t *testing.T, s *Stage, d *disk, now *uint64, n int) []decide.Decision {
	var all []decide.Decision
	for i := 0; i < n; i++ {
		*now += win
		out := s.Process([]predict.Output{d.vector(*now)}, nil)
		ds := out[0].Dec[:out[0].NDec]
		d.apply(t, ds)
		all = append(all, ds...)
	}
	return all
}

func TestReadaheadLearnsAndRemembers(t *testing.T) {
	model := filepath.Join(t.TempDir(), "tuners.model")
	d := &disk{ra: 128, orig: 128, seq: true,
		speed: map[int]float64{128: 100, 256: 40, 512: 180, 1024: 200}, // 256 is harmful
		rand:  map[int]float64{128: 1000, 64: 1100, 32: 1300, 16: 1250},
	}
	s := newStage(t, model)
	now := uint64(1e12)
	ds := run(t, s, d, &now, 150)
	// The harmful step (256: -60%) is undone at the end of its effect
	// window: apply and undo at most one effect window apart. The undo
	// is the next write (the next trial's, the settled or the original
	// setting) in one decision: a revert and another write at once are
	// two writes of one knob within actuate's 1 s, the second refused.
	var harmAt uint64
	writes := map[uint64]int{}
	for _, x := range ds {
		if x.Kind == decide.Revert || (x.Kind == decide.Apply && x.Action.Kind == action.Readahead) {
			if writes[x.TimeNs]++; writes[x.TimeNs] > 1 {
				t.Errorf("two writes of loop7 in one window (%s): actuate refuses the second", x.Reason)
			}
		}
		if x.Kind == decide.Apply && x.Action.Value == "256" && harmAt == 0 {
			harmAt = x.TimeNs
		}
		if x.Kind != decide.Effect && x.Action.Value != "256" && harmAt > 1 && strings.Contains(x.Reason, "harmful") {
			if x.TimeNs-harmAt > uint64(time.Second) {
				t.Errorf("harmful step reverted after %v, bound is one effect window", time.Duration(x.TimeNs-harmAt))
			}
			harmAt = 1
		}
	}
	if harmAt != 1 {
		t.Fatalf("no harmful revert:\n%s", dump(ds))
	}
	if d.ra != 1024 {
		t.Fatalf("sequential phase settled at %d, want 1024:\n%s", d.ra, dump(ds))
	}
	// Random phase: a new regime, explored and settled at 32.
	d.seq = false
	run(t, s, d, &now, 150)
	if d.ra != 32 {
		t.Fatalf("random phase settled at %d, want 32", d.ra)
	}
	// The sequential phase returns: its best is applied at once, no trial.
	d.seq = true
	ds = run(t, s, d, &now, 10)
	if d.ra != 1024 || len(s.ttb) == 0 {
		t.Fatalf("on return: read_ahead_kb %d, time to best %v:\n%s", d.ra, s.ttb, dump(ds))
	}
	t.Logf("time to best on return: %v", time.Duration(s.ttb[len(s.ttb)-1]))
	if ttb := s.ttb[len(s.ttb)-1]; ttb > uint64(time.Second) {
		t.Errorf("time to best %v, want under 1 s", time.Duration(ttb))
	}
	for _, x := range ds {
		if strings.Contains(x.Reason, "UCB1") {
			t.Errorf("explored again on return: %s", x.Reason)
		}
	}
	// A new daemon (same model file) applies the best at once too.
	s2 := newStage(t, model)
	if s2.LoadError() != nil || len(s2.bests) != 2 {
		t.Fatalf("reload: %v, %d bests", s2.LoadError(), len(s2.bests))
	}
	d.ra = 128
	run(t, s2, d, &now, 10)
	if d.ra != 1024 {
		t.Fatalf("after restart: read_ahead_kb %d, want 1024 at once", d.ra)
	}
}

func TestModelSetAside(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"garbage": []byte("not a model"),
		"future":  append([]byte("AINKATUN\x09\x00\x00\x00"), make([]byte, 8)...),
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o600)
		s := newStage(t, p)
		if s.LoadError() == nil || !strings.Contains(s.LoadError().Error(), "set aside") {
			t.Errorf("%s: load error %v", name, s.LoadError())
		}
		if _, err := os.Stat(p + ".bad"); err != nil {
			t.Errorf("%s: not set aside: %v", name, err)
		}
	}
	if _, err := New(Config{HarmPct: 90}); err == nil {
		t.Error("harm bound 90% accepted")
	}
}

func dump(ds []decide.Decision) string {
	var b strings.Builder
	for _, x := range ds {
		b.Write(x.AppendJSON(nil))
		b.WriteByte('\n')
	}
	return b.String()
}
