package tune

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/features"
)

// lagHost is the bench's toucher beside its hog, faked at the kernel
// boundary (the cgroup's memory.stat file): reclaim takes 3000 pages a
// second from the toucher's cgroup at swappiness 60, 1200 at 10 and
// almost none at 0, at once; its faults follow the setting of 3 s before
// (the pages already evicted come back first), longer than the effect
// window (1 s).
func lagHost(t *testing.T, root string) *pressHost {
	return &pressHost{swap: 60, origSwap: 60, lag: uint64(3 * time.Second),
		faults:  map[int]float64{60: 2000, 10: 1500, 0: 20},
		reclaim: map[int]float64{60: 3000, 10: 1200, 0: 5},
		stat:    filepath.Join(root, "bench", "lat", "memory.stat")}
}

// The objective answers the setting within its effect window: scored by
// the pages reclaim takes from the toucher's cgroup, swappiness 0 is
// measured at its true gain (~+100 %) and kept. Scored by the toucher's
// faults (the objective before), each setting was measured with the
// faults of the one before it: 0 looked no better than the original and
// the original, measured after 0, looked better than it is.
func TestMemoryTunerScoresReclaimNotLaggedFaults(t *testing.T) {
	root := memcg(t, "9223372036854771712")
	h := lagHost(t, root)
	s := memStage(t, "", root)
	now := uint64(1e12)
	ds := h.run(t, s, &now, 150)
	if h.swap != 0 {
		t.Fatalf("settled at swappiness %d, want 0:\n%s", h.swap, dump(ds))
	}
	if ds[0].Kind != decide.Apply || ds[0].Action.Value != "0" {
		t.Errorf("first step %s, want 0 (the strongest first: the task is protected from the trial's start)", ds[0].Reason)
	}
	var zero float64
	for _, x := range ds {
		if x.Kind == decide.Effect && x.Action.Value == "0" {
			zero = x.Score
		}
		if x.Kind == decide.Revert && strings.Contains(x.Reason, "harmful") && x.Action.Value == "0" {
			t.Errorf("0 reverted as harmful: %s", x.Reason)
		}
	}
	if zero < 0.9 {
		t.Errorf("swappiness 0 scored %+.0f%%, want ≥ +90%% (its reclaim is 5 pages/s against 3000):\n%s", 100*zero, dump(ds))
	}
	if st := s.Status().Tuners[2]; st.State != "settled" || !strings.Contains(st.Last, "reclaim of the protected task") {
		t.Errorf("status: %+v", st)
	}
}

// A cgroup whose memory.swappiness is not its parent's was set for it by
// someone: the tuner leaves it alone. On cgroup v2, a vm.swappiness other
// than the kernel's 60 is an administrator's, also left alone.
func TestMemoryTunerLeavesChosenValues(t *testing.T) {
	root := memcg(t, "9223372036854771712")
	os.WriteFile(filepath.Join(root, "bench", "lat", "memory.swappiness"), []byte("30\n"), 0o644)
	h := lagHost(t, root)
	now := uint64(1e12)
	if ds := h.run(t, memStage(t, "", root), &now, 100); len(ds) != 0 {
		t.Fatalf("changed a cgroup's chosen swappiness (30, its parent's 60):\n%s", dump(ds))
	}
	s, err := New(Config{Memory: Act, EffectWindow: time.Second,
		MemCgroup: func(uint32) (string, bool, error) { return "/user.slice", false, nil },
		Swapped:   func(string) (uint64, error) { return 64 << 20, nil },
		Sysctl:    func(string) (string, error) { return "30", nil }})
	if err != nil {
		t.Fatal(err)
	}
	if ds := h.run(t, s, &now, 100); len(ds) != 0 {
		t.Fatalf("v2: changed an administrator's vm.swappiness 30:\n%s", dump(ds))
	}
}

// reclaimRate: a rate only from two readings one window apart; the first
// reading of a step, a gap (the previous step's last reading) or a
// counter that went back (a cgroup made anew) only start the count.
func TestReclaimRate(t *testing.T) {
	counter, fail := uint64(1000), error(nil)
	s, err := New(Config{Reclaimed: func(cg string, v1 bool) (uint64, error) {
		if cg != "/bench/lat" || !v1 {
			t.Fatalf("read %q v1 %v", cg, v1)
		}
		return counter, fail
	}})
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{memcg: "/bench/lat", memV1: true}
	at := func(end uint64) (float64, bool) {
		v := features.Vector{StartNs: end - win, EndNs: end}
		return s.reclaimRate(&v, tg)
	}
	steps := []struct {
		end   uint64
		ctr   uint64
		err   error
		want  float64
		valid bool
	}{
		{1e9, 1000, nil, 0, false},                      // first reading
		{1e9 + win, 1300, nil, -3000, true},             // 300 pages in 0.1 s
		{1e9 + 2*win, 1300, nil, 0, true},               // none taken
		{1e9 + 5*win, 1400, nil, 0, false},              // a gap: starts anew
		{1e9 + 6*win, 10, nil, 0, false},                // the counter went back
		{1e9 + 7*win, 60, errors.New("gone"), 0, false}, // unreadable
		{1e9 + 8*win, 60, nil, 0, false},                // no reading just before
		{1e9 + 9*win, 70, nil, -100, true},
	}
	for i, st := range steps {
		counter, fail = st.ctr, st.err
		got, ok := at(st.end)
		if ok != st.valid || ok && got != st.want {
			t.Errorf("step %d: %v %v, want %v %v", i, got, ok, st.want, st.valid)
		}
	}
}

func TestReadReclaimed(t *testing.T) {
	v1, v2 := t.TempDir(), t.TempDir()
	for _, d := range []string{filepath.Join(v1, "a"), filepath.Join(v2, "b")} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(v1, "a", "memory.stat"), []byte("pgpgout 5\ntotal_pgpgin 9\ntotal_pgpgout 1234\n"), 0o644)
	os.WriteFile(filepath.Join(v2, "b", "memory.stat"), []byte("pgscan 99\npgsteal 77\npgsteal_kswapd 70\n"), 0o644)
	if n, err := readReclaimed(v1, v2, "/a", true); n != 1234 || err != nil {
		t.Errorf("v1: %d, %v", n, err)
	}
	if n, err := readReclaimed(v1, v2, "/b", false); n != 77 || err != nil {
		t.Errorf("v2: %d, %v", n, err)
	}
	os.WriteFile(filepath.Join(v1, "a", "memory.stat"), []byte("pgpgout 5\n"), 0o644)
	if _, err := readReclaimed(v1, v2, "/a", true); !errors.Is(err, errNoField) || !strings.Contains(err.Error(), "total_pgpgout") {
		t.Errorf("no total_pgpgout: %v", err)
	}
	if _, err := readReclaimed(v1, v2, "/gone", false); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "gone/memory.stat") {
		t.Errorf("no cgroup: %v", err)
	}
}
