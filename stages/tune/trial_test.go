package tune

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
)

// shortPhaseDisk: phases of 2 s, shorter than a trial (four settings of
// a 1 s effect window each): a daemon that lives one sequential and one
// random phase never finishes a trial on its own.
func shortPhaseDisk() *disk {
	return &disk{ra: 128, orig: 128, seq: true,
		speed: map[int]float64{128: 100, 256: 130, 512: 180, 1024: 200},
		rand:  map[int]float64{128: 1000, 64: 1100, 32: 1300, 16: 1250},
	}
}

const shortPhase = 20 // windows of 100 ms

// lifetimes runs daemons one after the other on the same model file, each
// living a sequential and a random phase, and returns the last one.
// crash: a daemon stops without Save (killed), after the sequential phase
// came back for a moment (so its random phase paused). Each new daemon
// starts with the device's original readahead, as actuate restores it.
func lifetimes(t *testing.T, model string, n int, crash bool) (*Stage, *disk, []decide.Decision) {
	d := shortPhaseDisk()
	now := uint64(1e12)
	var s *Stage
	var all []decide.Decision
	for i := 0; i < n; i++ {
		s = newStage(t, model)
		if err := s.LoadError(); err != nil {
			t.Fatalf("daemon %d: %v", i, err)
		}
		d.ra = d.orig
		for _, seq := range []bool{true, false} {
			d.seq = seq
			all = append(all, run(t, s, d, &now, shortPhase)...)
		}
		if crash {
			d.seq = true
			all = append(all, run(t, s, d, &now, 8)...)
			continue
		}
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
	}
	return s, d, all
}

// TestReadaheadTrialsSurviveRestart: each daemon goes on with the trials
// its predecessors' phases left (the model file keeps them), so short
// phases learn over restarts: the bench's case, a fresh daemon per run.
// Before trials were kept, every daemon began again at trial 1 and never
// settled.
func TestReadaheadTrialsSurviveRestart(t *testing.T) {
	for _, crash := range []bool{false, true} {
		model := filepath.Join(t.TempDir(), "tuners.model")
		s, d, all := lifetimes(t, model, 6, crash)
		seq, ok1 := s.best(phaseRegime, "readahead/loop7/sequential")
		rnd, ok2 := s.best(phaseRegime, "readahead/loop7/random")
		if !ok1 || !ok2 || seq.Value != "1024" || rnd.Value != "32" {
			t.Fatalf("crash %v: learned %+v %v, %+v %v over 6 daemons; want 1024 and 32:\n%s", crash, seq, ok1, rnd, ok2, dump(all))
		}
		resumed := 0
		for _, x := range all {
			if strings.Contains(x.Reason, "resumed") {
				resumed++
			}
		}
		if resumed == 0 {
			t.Errorf("crash %v: no trial resumed", crash)
		}
		// The next daemon applies each phase's best at once.
		s2 := newStage(t, model)
		now := uint64(2e12)
		d.ra, d.seq = d.orig, true
		run(t, s2, d, &now, 10)
		if d.ra != 1024 {
			t.Errorf("crash %v: next daemon's sequential phase at %d after 1 s, want 1024", crash, d.ra)
		}
	}
}

// TestReadaheadPausedTrialOnDisk: a trial paused by its phase's end is in
// the model file at once, before any Save: a daemon killed then goes on
// with it.
func TestReadaheadPausedTrialOnDisk(t *testing.T) {
	model := filepath.Join(t.TempDir(), "tuners.model")
	d := shortPhaseDisk()
	s := newStage(t, model)
	now := uint64(1e12)
	run(t, s, d, &now, shortPhase)
	d.seq = false
	run(t, s, d, &now, 10)
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatalf("no model file after a paused trial: %v", err)
	}
	st, ver, err := decodeModel(b)
	if err != nil || ver != ModelVersion || len(st.Trials) != 1 {
		t.Fatalf("model file: version %d, %v, trials %+v", ver, err, st)
	}
	tr := st.Trials[0]
	if tr.Target != "readahead/loop7/sequential" || tr.Steps < 1 || len(tr.Arms) != 4 {
		t.Fatalf("paused trial %+v", tr)
	}
	// A new daemon resumes it at the step it had reached: it measures
	// the original and scores the 1024 its predecessor measured first
	// (held), without starting again at trial 1.
	if tr.Arm != 0 || tr.Held == nil || !tr.Held[3] {
		t.Fatalf("paused trial %+v: want 1024 held, the original being measured", tr)
	}
	s2 := newStage(t, model)
	d.seq, d.ra = true, d.orig
	ds := run(t, s2, d, &now, 15)
	scored := false
	for _, x := range ds {
		if strings.Contains(x.Reason, "trial 1 of") {
			t.Fatalf("the next daemon started the trial afresh:\n%s", dump(ds))
		}
		scored = scored || (x.Kind == decide.Effect && x.Action.Value == "1024")
	}
	if !scored {
		t.Fatalf("the held measure of 1024 was not scored by the next daemon:\n%s", dump(ds))
	}
}

// TestReadaheadLargestFirst: a sequential phase's first trial is the
// largest readahead (the likeliest best), in the phase's first window,
// and the original is measured next; a random phase measures the
// original first.
func TestReadaheadLargestFirst(t *testing.T) {
	d := shortPhaseDisk()
	s := newStage(t, "")
	now := uint64(1e12)
	ds := run(t, s, d, &now, 25)
	var vals []string
	for _, x := range ds {
		if x.Action.Kind != 0 && (x.Kind == decide.Apply || x.Kind == decide.Revert) {
			vals = append(vals, x.Kind.String()+" "+x.Action.Value)
		}
	}
	if len(vals) < 2 || vals[0] != "apply 1024" || !strings.HasPrefix(vals[1], "revert") {
		t.Fatalf("sequential phase's writes %v, want 1024 first, then the original:\n%s", vals, dump(ds))
	}
	// The held measure of 1024 is scored once the original is measured.
	var effect bool
	for _, x := range ds {
		effect = effect || (x.Kind == decide.Effect && x.Action.Value == "1024" && x.Score > 0.9)
	}
	if !effect {
		t.Errorf("no effect of 1024 against the original (+100%%):\n%s", dump(ds))
	}
	d2 := shortPhaseDisk()
	d2.seq = false
	s2 := newStage(t, "")
	if ds := run(t, s2, d2, &now, 12); len(ds) > 0 && ds[0].Kind == decide.Apply && ds[0].Action.Value != "" {
		t.Errorf("random phase wrote %s before measuring the original", ds[0].Action.Value)
	}
}

// modelFile is a tuner model file of format version ver holding payload.
func modelFile(ver uint32, payload []byte) []byte {
	h := modelHeader{Version: ver, Size: uint32(len(payload)), CRC: crc32.Checksum(payload, castagnoli)}
	copy(h.Magic[:], modelMagic)
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, &h)
	b.Write(payload)
	return b.Bytes()
}

// TestModelMigratesV1: a format 1 file (regimes and bests, no trials) is
// read, its bests applied, rewritten in this format with a message, and
// the old file kept as PATH.v1.
func TestModelMigratesV1(t *testing.T) {
	model := filepath.Join(t.TempDir(), "tuners.model")
	v1 := modelFile(1, []byte(`{"next_regime":1,"regimes":[],"best":[{"regime":0,"target":"readahead/loop7/sequential","value":"512","gain":0.8,"trials":4}]}`))
	if err := os.WriteFile(model, v1, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStage(t, model)
	if s.LoadError() != nil || !strings.Contains(s.LoadNote(), "migrated from format 1 to 2") {
		t.Fatalf("load: %v, note %q", s.LoadError(), s.LoadNote())
	}
	if old, err := os.ReadFile(model + ".v1"); err != nil || !bytes.Equal(old, v1) {
		t.Errorf("old file not kept as .v1: %v", err)
	}
	b, _ := os.ReadFile(model)
	st, ver, err := decodeModel(b)
	if err != nil || ver != ModelVersion || len(st.Best) != 1 || st.Best[0].Value != "512" {
		t.Fatalf("rewritten file: version %d, %v, %+v", ver, err, st)
	}
	d := shortPhaseDisk()
	now := uint64(1e12)
	run(t, s, d, &now, 10)
	if d.ra != 512 {
		t.Fatalf("migrated best not applied: read_ahead_kb %d", d.ra)
	}
	// A version 2 file loads without a note.
	if s2 := newStage(t, model); s2.LoadError() != nil || s2.LoadNote() != "" {
		t.Errorf("second load: %v, %q", s2.LoadError(), s2.LoadNote())
	}
}

// TestModelBadTrials: a file whose trials do not hold together is set
// aside, naming the trial and the fault.
func TestModelBadTrials(t *testing.T) {
	good := Trial{Target: "readahead/loop7/sequential", Arms: []string{"", "256"}, Pulls: []int{1, 0}, Reward: []float64{0, 0}, SE2: []float64{0, 0}}
	for name, c := range map[string]struct {
		ver  uint32
		tr   func(*Trial)
		want string
	}{
		"arm out of range": {2, func(tr *Trial) { tr.Arm = 5 }, "setting 5 of 2"},
		"short counts":     {2, func(tr *Trial) { tr.Pulls = tr.Pulls[:1] }, "2 settings but 1/2/2 counts"},
		"one setting":      {2, func(tr *Trial) { tr.Arms = tr.Arms[:1] }, "1 settings, want 2..6"},
		"not an order":     {2, func(tr *Trial) { tr.Order = []int{1, 1} }, "not a permutation"},
		"negative pulls":   {2, func(tr *Trial) { tr.Pulls[1] = -1 }, "measured -1 times"},
		"no target":        {2, func(tr *Trial) { tr.Target = "" }, "without a target"},
		"trials in v1":     {1, func(*Trial) {}, "format 1 with trials"},
	} {
		tr := good
		tr.Pulls, tr.Arms = append([]int(nil), good.Pulls...), append([]string(nil), good.Arms...)
		c.tr(&tr)
		payload, _ := json.Marshal(modelState{NextRegime: 0, Trials: []Trial{tr}})
		p := filepath.Join(t.TempDir(), "tuners.model")
		os.WriteFile(p, modelFile(c.ver, payload), 0o600)
		s := newStage(t, p)
		if err := s.LoadError(); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "set aside") {
			t.Errorf("%s: load error %v, want %q and set aside", name, err, c.want)
		}
		if CheckModel(modelFile(c.ver, payload)) == nil {
			t.Errorf("%s: CheckModel accepts it", name)
		}
	}
}

// TestReadaheadResumedStepLastsAWriteInterval: a step paused near the end
// of its effect window and resumed must not end (and write the next
// setting) within actuate's 1 s between writes of one knob after the
// write that put it back: that write was refused (rate_limited) and the
// next step measured the wrong setting.
func TestReadaheadResumedStepLastsAWriteInterval(t *testing.T) {
	d := shortPhaseDisk()
	s, err := New(Config{Readahead: Act, EffectWindow: 2 * time.Second, MaxSteps: 20,
		DeviceName: func(uint32) string { return "loop7" }, ReadaheadKB: func(string) (int, error) { return 128, nil }})
	if err != nil {
		t.Fatal(err)
	}
	now := uint64(1e12)
	var all []decide.Decision
	for p := 0; p < 30; p++ {
		d.seq = p%2 == 0
		all = append(all, run(t, s, d, &now, 15+(p*7)%21)...) // phases of 1.5-3.5 s
	}
	resumed := 0
	for i, x := range all {
		if x.Kind != decide.Apply || !strings.Contains(x.Reason, "resumed") {
			continue
		}
		resumed++
		for _, y := range all[i+1:] {
			if y.Kind == decide.Revert || (y.Kind == decide.Apply && y.Action.Kind == action.Readahead) {
				if gap := time.Duration(y.TimeNs - x.TimeNs); gap < time.Second && !strings.Contains(y.Reason, "phase ended") && !strings.Contains(y.Reason, "resumed") && !strings.Contains(y.Reason, "best known") {
					t.Errorf("write %v after a resumed step's write, under actuate's 1 s: %s", gap, y.Reason)
				}
				break
			}
		}
	}
	if resumed < 3 {
		t.Fatalf("%d steps resumed: the test does not test resuming:\n%s", resumed, dump(all))
	}
}
