package tune_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/internal/testenv"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/tune"
)

// v2Memory returns the cgroup v2 mount when the memory controller is
// there, or skips naming what is missing (inside the test VM, where it
// must be there, it fails).
func v2Memory(t *testing.T) string {
	t.Helper()
	if v1 := actuate.FindCgroup1("/proc/self/mountinfo", "memory"); v1 != "" {
		testenv.SkipUnlessVM(t, "the memory controller is bound to cgroup v1 here (%s): memory.high of a v2 cgroup needs it in v2", v1)
	}
	root, err := actuate.FindCgroup2("/proc/self/mountinfo")
	if err != nil {
		testenv.SkipUnlessVM(t, "no cgroup v2: %v", err)
	}
	if ctrls := readTrimmed(root + "/cgroup.controllers"); !slices.Contains(strings.Fields(ctrls), "memory") {
		testenv.SkipUnlessVM(t, "cgroup v2 at %s has no memory controller (cgroup.controllers: %q)", root, ctrls)
	}
	return root
}

// vmSwap makes a swap device for the test: /dev/ram1 in the VM (brd,
// scripts/vm/init.sh), zram0 elsewhere.
func vmSwap(t *testing.T) {
	t.Helper()
	for _, b := range []string{"mkswap", "swapon", "swapoff"} {
		if _, err := exec.LookPath(b); err != nil {
			testenv.SkipUnlessVM(t, "%s not installed (util-linux)", b)
		}
	}
	if !testenv.InVM() {
		zramSwap(t)
		return
	}
	for _, c := range [][]string{{"mkswap", "/dev/ram1"}, {"swapon", "/dev/ram1"}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", c, err, out)
		}
	}
	t.Cleanup(func() { exec.Command("swapoff", "/dev/ram1").Run() })
}

// v2Cgroups makes NAME/{lat,hog} under root with the memory controller
// on, NAME limited to limit bytes; removed (and the root's controllers
// as they were) at cleanup.
func v2Cgroups(t *testing.T, root, name string, limit int64) string {
	t.Helper()
	cg := filepath.Join(root, name)
	rootCtl := filepath.Join(root, "cgroup.subtree_control")
	had := slices.Contains(strings.Fields(readTrimmed(rootCtl)), "memory")
	if err := os.WriteFile(rootCtl, []byte("+memory"), 0); err != nil {
		t.Fatalf("enable memory in %s: %v", rootCtl, err)
	}
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, d := range []string{cg + "/hog", cg + "/lat", cg} {
			for i := 0; i < 50; i++ {
				if err := os.Remove(d); err == nil || os.IsNotExist(err) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		if !had {
			os.WriteFile(rootCtl, []byte("-memory"), 0)
		}
	})
	for p, v := range map[string]string{"memory.max": strconv.FormatInt(limit, 10), "cgroup.subtree_control": "+memory"} {
		if err := os.WriteFile(filepath.Join(cg, p), []byte(v), 0); err != nil {
			t.Fatalf("%s/%s: %v", cg, p, err)
		}
	}
	for _, d := range []string{cg + "/hog", cg + "/lat"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return cg
}

// TestLiveMemoryTunerBoundsV2Hog: on cgroup v2 (make test-vm: Debian's
// 6.1 kernel, swap on a ram disk), a task touching 16 random pages of
// its 48 MiB every 10 ms (each page every ~8 s: colder than the hog's,
// which it rewrites over and over) and a hog growing to 80 MiB, each in
// its own cgroup under a shared 96 MiB memory.max, neither named to AINKA. The memory tuner must find
// them, bound the hog's memory.high (never below 75 % of its usage),
// measure the reclaim taken from the task's cgroup, revert any step more
// than the harm bound worse within one effect window, keep a bound that
// cut the task's reclaim by at least half, with no OOM kill, and restore
// the hog's memory.high to "max" when the daemon stops.
func TestLiveMemoryTunerBoundsV2Hog(t *testing.T) {
	testenv.RequireRoot(t, "eBPF, cgroups, swap")
	root := v2Memory(t)
	vmSwap(t)
	rel := fmt.Sprintf("ainka-test-memhigh-%d", os.Getpid())
	cg := v2Cgroups(t, root, rel, 96<<20)

	me := os.Getpid()
	cfg := tune.Config{Memory: tune.Act, EffectWindow: time.Second, MaxSteps: 5, Cgroup2: root,
		AllowPID: func(pid uint32) bool { return descendant(int(pid), me) }}
	kinds := []record.Kind{record.KindSchedSwitch, record.KindSchedWakeup, record.KindPageFault, record.KindHostSample}
	start := time.Now()
	l := startLive(t, t.TempDir(), kinds, false, cfg)
	helper(t, cg+"/lat", "touch", "48", "100", "120s")
	time.Sleep(time.Second)
	hog := helper(t, cg+"/hog", "grow", "16", filepath.Join(t.TempDir(), "grow.progress"), "80")

	knob := "cgroup:" + rel + "/hog:memory.high"
	next := time.Now()
	if !waitFor(45*time.Second, func() bool {
		if time.Now().After(next) { // the course of the run, for a failure's log
			next = next.Add(time.Second)
			t.Logf("%4.1fs: parent %s, hog %s (high %s), task %s bytes, task's pgsteal %s", time.Since(start).Seconds(), readTrimmed(cg+"/memory.current"),
				readTrimmed(cg+"/hog/memory.current"), readTrimmed(cg+"/hog/memory.high"), readTrimmed(cg+"/lat/memory.current"), statLine(cg+"/lat/memory.stat", "pgsteal "))
		}
		return l.tuner("memory").State == "settled"
	}) {
		logResults(t, l.res.since(0))
		t.Fatalf("memory tuner not settled in 45 s: %+v", l.tuner("memory"))
	}
	settled := time.Since(start)
	checkTrials(t, l, knob)
	st := l.tuner("memory")
	best, bestWhy := math.Inf(-1), ""
	for _, r := range l.res.since(0) {
		if r.Knob == knob && r.Kind == decide.Effect && r.Score > best {
			best, bestWhy = r.Score, r.Why
		}
	}
	events := strings.ReplaceAll(readTrimmed(cg+"/memory.events"), "\n", " ")
	fmt.Printf("AINKA-VM-FIGURE: memory tuner, cgroup v2 memory.high of the hog: settled at %s (%+.0f%% %s) %.1f s after the start; best step: %s; parent %s; hog at %s bytes, task's cgroup pgsteal %s\n",
		st.Setting, st.GainPct, st.Objective, settled.Seconds(), bestWhy, events, readTrimmed(cg+"/hog/memory.current"), statLine(cg+"/lat/memory.stat", "pgsteal "))
	if best < 0.5 {
		t.Errorf("no memory.high step cut the reclaim from the task's cgroup by half (best %+.0f%%)", 100*best)
	}
	if st.Setting != "90%" && st.Setting != "75%" || st.GainPct < 50 {
		t.Errorf("settled on %q with %+.0f%% %s, want 90%% or 75%% with at least +50%%", st.Setting, st.GainPct, st.Objective)
	}
	if !strings.Contains(events, "oom_kill 0") {
		t.Errorf("OOM kill under the shared limit: %s", events)
	}
	if err := hog.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the hog is gone: %v", err)
	}
	if got := readTrimmed(cg + "/hog/memory.high"); got == "max" {
		t.Errorf("hog's memory.high is max while settled at %s", st.Setting)
	}
	l.stop(t)
	if got := readTrimmed(cg + "/hog/memory.high"); got != "max" {
		t.Errorf("hog's memory.high after stop %s, want max", got)
	}
}

// statLine is the value of the line of file p that starts with prefix.
func statLine(p, prefix string) string {
	for _, l := range strings.Split(readTrimmed(p), "\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			return v
		}
	}
	return "?"
}
