package tune

import (
	"fmt"
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

// v2Host is a cgroup v2 host faked at the kernel boundary (its files):
// /bench, limited to 256 MiB, holds the protected task's cgroup (lat, pid
// 42) and a growing hog's (hog, pid 43). While the hog's memory.high is
// "max" reclaim under the shared limit takes 3000 pages a second from lat
// and the hog grows 8 MiB a window; bounded, it takes 5 and the hog comes
// down to the bound. Writes are clamped as actuate does: never below 75 %
// of the hog's usage.
type v2Host struct {
	root  string
	use   int64 // the hog's memory.current
	steal float64
	// cuts: every memory.high asked for, with the hog's usage just before
	cuts [][2]int64
	// yielded: someone else wrote memory.high; actuate no longer does
	yielded bool
}

func newV2Host(t *testing.T, parentUse, hogHigh string) *v2Host {
	h := &v2Host{root: t.TempDir(), use: 200 << 20}
	for p, v := range map[string]string{
		"bench/memory.max": "268435456", "bench/memory.high": "max", "bench/memory.current": parentUse,
		"bench/lat/memory.stat": "pgsteal 0\n", "bench/lat/memory.swap.current": "0",
		"bench/hog/memory.high": hogHigh,
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(h.root, p)), 0o755)
		os.WriteFile(filepath.Join(h.root, p), []byte(v+"\n"), 0o644)
	}
	h.write("bench/hog/memory.current", h.use)
	return h
}

func (h *v2Host) write(p string, n int64) {
	os.WriteFile(filepath.Join(h.root, p), []byte(strconv.FormatInt(n, 10)+"\n"), 0o644)
}

func (h *v2Host) high() string { return readTrimmed(filepath.Join(h.root, "bench/hog/memory.high")) }

func readTrimmed(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}

func (h *v2Host) vector(now uint64) predict.Output {
	var o predict.Output
	v := &o.Vector
	v.StartNs, v.EndNs = now-win, now
	v.Values[features.CPUBusyPct] = 40
	v.Values[features.PSIMemSomePct] = 12
	v.NumTasks = 2
	v.Tasks[0] = features.TaskFeatures{PID: 43, Runs: 10, CPUShare: 0.9, MeanRunUs: 9000, InvoluntaryPerS: 90, VoluntaryPerS: 10, FaultsPerS: 30000}
	copy(v.Tasks[0].Comm[:], "grow")
	v.Tasks[1] = features.TaskFeatures{PID: 42, Runs: 100, CPUShare: 0.02, MeanRunUs: 20, VoluntaryPerS: 1000, WakeupsPerS: 1000, RunqUs: 15}
	copy(v.Tasks[1].Comm[:], "touch")
	rate := 5.0
	if h.high() == "max" {
		rate = 3000
		h.use += 8 << 20
		h.write("bench/hog/memory.current", h.use)
	}
	h.steal += rate * float64(win) / 1e9
	os.WriteFile(filepath.Join(h.root, "bench/lat/memory.stat"), fmt.Appendf(nil, "pgscan 1\npgsteal %d\n", int64(h.steal)), 0o644)
	return o
}

// apply does what actuate would: write memory.high, or "max" back.
func (h *v2Host) apply(t *testing.T, ds []decide.Decision) {
	for _, x := range ds {
		a := x.Action
		if a.Kind != action.Cgroup || a.Knob != "memory.high" {
			if x.Kind == decide.Apply || x.Kind == decide.Revert {
				t.Fatalf("unexpected action %s", x.Reason)
			}
			continue
		}
		if strings.Trim(a.Target, "/") != "bench/hog" {
			t.Fatalf("memory.high of %q", a.Target)
		}
		if h.yielded {
			continue
		}
		v := "max"
		if x.Kind == decide.Apply {
			n, _ := strconv.ParseInt(a.Value, 10, 64)
			h.cuts = append(h.cuts, [2]int64{n, h.use})
			n = max(n, (h.use*action.MemoryHighFloorPct/100+4095)/4096*4096)
			v = strconv.FormatInt(n, 10)
			h.use = min(h.use, n)
			h.write("bench/hog/memory.current", h.use)
		}
		os.WriteFile(filepath.Join(h.root, "bench/hog/memory.high"), []byte(v+"\n"), 0o644)
	}
}

func (h *v2Host) run(t *testing.T, s *Stage, now *uint64, n int) []decide.Decision {
	return runFake(t, h, s, now, n)
}

func (h *v2Host) stage(t *testing.T) *Stage {
	t.Helper()
	s, err := New(Config{Memory: Act, EffectWindow: time.Second, Cgroup2: h.root,
		MemCgroup: func(pid uint32) (string, bool, error) {
			return map[uint32]string{42: "/bench/lat", 43: "/bench/hog"}[pid], false, nil
		},
		Swapped: func(string) (uint64, error) { return 0, nil }, // no host swap: no vm.swappiness fallback
		Sysctl:  func(string) (string, error) { t.Fatal("the v2 memory tuner read a sysctl"); return "", nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// On cgroup v2 the tuner bounds the hog beside the protected task: its
// memory.high at 90 % and 75 % of its usage when found, scored by the
// reclaim taken from the task's cgroup (memory.stat pgsteal), and keeps
// the gentlest of the settings within minGain of the best. The hog grows
// back while the original is measured; actuate writes no lower than 75 %
// of its usage, so the tuner reaches a setting in steps.
func TestMemoryTunerBoundsV2Hog(t *testing.T) {
	h := newV2Host(t, "260046848", "max") // /bench 97 % used: reclaim is next
	s := h.stage(t)
	now := uint64(1e12)
	ds := h.run(t, s, &now, 150)
	if len(h.cuts) == 0 {
		t.Fatalf("no memory.high written:\n%s", dump(ds))
	}
	base := h.cuts[0][1] // the hog's usage when found
	for _, c := range h.cuts {
		if c[0]%4096 != 0 || c[0] != base*90/100&^4095 && c[0] != base*75/100&^4095 {
			t.Errorf("memory.high %d asked for, want 90 or 75 %% of %d in whole pages", c[0], base)
		}
	}
	steps := 0
	for _, x := range ds {
		if x.Kind == decide.Apply && strings.Contains(x.Reason, "the next step to") {
			steps++
		}
	}
	if steps == 0 {
		t.Errorf("no setting reached in steps, though the hog grew to %d while the original was measured:\n%s", h.use, dump(ds))
	}
	if !strings.Contains(ds[0].Reason, "/bench 97% used: reclaim is next") || !strings.Contains(ds[0].Reason, "memory/touch/memory.high") {
		t.Errorf("first change's why: %s", ds[0].Reason)
	}
	st := s.Status().Tuners[2]
	if st.State != "settled" || st.Setting != "90%" || st.GainPct < 90 || st.Objective != "reclaim of the protected task" {
		t.Fatalf("status %+v, want settled at 90%% with ≥ +90%%:\n%s", st, dump(ds))
	}
	if want := strconv.FormatInt(base*90/100&^4095, 10); h.high() != want {
		t.Errorf("memory.high %s at the end, want 90%% of %d: %s\n%s", h.high(), base, want, dump(ds))
	}
}

// Left alone: a hog cgroup whose memory.high someone set; a hog cgroup
// without the memory controller (no memory.high file); a shared parent
// far from its limit with nothing of the task in swap.
func TestMemoryTunerV2LeavesAlone(t *testing.T) {
	for _, c := range []struct {
		name, parentUse, high string
		rm                    bool
	}{
		{"an administrator's memory.high", "260046848", "1073741824", false},
		{"no memory controller", "260046848", "max", true},
		{"no pressure near", "104857600", "max", false},
	} {
		h := newV2Host(t, c.parentUse, c.high)
		if c.rm {
			os.Remove(filepath.Join(h.root, "bench/hog/memory.high"))
		}
		now := uint64(1e12)
		if ds := h.run(t, h.stage(t), &now, 60); len(ds) != 0 {
			t.Errorf("%s: acted:\n%s", c.name, dump(ds))
		}
	}
	// the task's own pages in swap are evidence enough, without a limit near
	h := newV2Host(t, "104857600", "max")
	h.write("bench/lat/memory.swap.current", 8<<20)
	now := uint64(1e12)
	if ds := h.run(t, h.stage(t), &now, 20); len(ds) == 0 || !strings.Contains(ds[0].Reason, "8 MiB of /bench/lat in swap") {
		t.Errorf("8 MiB of the task in swap: %s", dump(ds))
	}
}

// The hog's cgroup removed mid-trial (its job ended) ends the trial
// cleanly, with the setting's revert asked for.
func TestMemoryTunerV2HogGone(t *testing.T) {
	h := newV2Host(t, "260046848", "max")
	s := h.stage(t)
	now := uint64(1e12)
	for i := 0; i < 60 && len(h.cuts) == 0; i++ {
		h.run(t, s, &now, 1)
	}
	if len(h.cuts) == 0 {
		t.Fatal("no memory.high written in 6 s")
	}
	os.RemoveAll(filepath.Join(h.root, "bench/hog"))
	ds := h.run(t, s, &now, 20)
	if len(ds) == 0 || ds[0].Kind != decide.Revert {
		t.Fatalf("after the hog's cgroup went: %s", dump(ds))
	}
	if st := s.Status().Tuners[2]; st.State == "trying" {
		t.Errorf("still trying: %+v", st)
	}
}

// Someone writes the hog's memory.high while the tuner holds it: actuate
// yields the knob without telling the tuner, whose setting now looks
// short of the one asked for; it asks again at most maxResteps times.
func TestMemoryTunerV2RestepBounded(t *testing.T) {
	h := newV2Host(t, "260046848", "max")
	s := h.stage(t)
	now := uint64(1e12)
	h.run(t, s, &now, 150)
	if st := s.Status().Tuners[2]; st.State != "settled" {
		t.Fatalf("not settled: %+v", st)
	}
	h.yielded = true
	os.WriteFile(filepath.Join(h.root, "bench/hog/memory.high"), []byte("1073741824\n"), 0o644)
	h.write("bench/hog/memory.current", 100<<20)
	n := 0
	for _, x := range h.run(t, s, &now, 200) {
		if x.Kind == decide.Apply {
			n++
		}
	}
	if n > maxResteps {
		t.Errorf("%d writes asked for after someone else's write, bound %d", n, maxResteps)
	}
}
