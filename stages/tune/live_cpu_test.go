package tune_test

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/internal/testenv"
	"github.com/ainka/ainka/stages/tune"
)

// descendant reports whether pid descends from the process root (by the
// parent links of /proc/PID/stat).
func descendant(pid, root int) bool {
	for i := 0; i < 32 && pid > 1; i++ {
		if pid == root {
			return true
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 {
			return false
		}
		pid, _ = strconv.Atoi(f[1])
	}
	return false
}

// cyclicP99 runs cyclictest (SCHED_OTHER, 1 ms period) on cpu for d and
// returns the 99th percentile of its wake-up latency in µs.
func cyclicP99(t *testing.T, cpu string, d time.Duration) float64 {
	t.Helper()
	out, err := exec.Command("taskset", "-c", cpu, "cyclictest", "-q", "-m", "-t", "1", "-p", "0", "--policy=other",
		"-i", "1000", "-h", "20000", "-D", fmt.Sprintf("%ds", int(d.Seconds()))).CombinedOutput()
	if err != nil {
		t.Fatalf("cyclictest: %v %.500s", err, out)
	}
	var hist []int
	n := 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		b, e1 := strconv.Atoi(f[0])
		c, e2 := strconv.Atoi(f[1])
		if e1 != nil || e2 != nil {
			continue
		}
		for len(hist) <= b {
			hist = append(hist, 0)
		}
		hist[b] += c
		n += c
	}
	if n == 0 {
		t.Fatalf("no samples in cyclictest's histogram: %.500s", out)
	}
	acc := 0
	for b, c := range hist {
		if acc += c; acc >= int(math.Ceil(0.99*float64(n))) {
			return float64(b)
		}
	}
	return float64(len(hist)) // p99 in the overflow: at least the histogram's end
}

// getpriority is the raw syscall's 20 - nice (-1 on error: never a nice).
func getpriority(pid int) int {
	n, err := unix.Getpriority(unix.PRIO_PROCESS, pid)
	if err != nil {
		return -1
	}
	return n
}

// ownNice is this process's nice: the suite may run under nice, and the
// processes it starts inherit it.
func ownNice() int { return 20 - getpriority(0) }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestLiveCPUTunerFindsHog: a CPU hog and a latency-sensitive task share
// a CPU, neither named to AINKA. The CPU tuner must find the hog by
// itself (from its scheduling features: not the latency task, not the
// hog's sleeping parent), try only nice values above the hog's original
// one, settle, and leave the hog at its original nice when the daemon
// stops. The tuners may only touch processes this test started
// (AllowPID), never the host's.
//
// With AINKA_TUNE_CPU_GAIN=1 it also asserts that the latency task's p99
// wake-up latency improves: the median of three runs with the daemon on
// below the median of three with it off by more than the off-runs' own
// spread, off and on alternating. That part is opt-in: on this 2-core
// host shared with seven other helpers' builds, cyclictest on the hog's
// CPU waits 2-3 ms on average whatever the hog's nice (measured: avg 3077
// vs 2983 µs at nice 0 vs 19), and the tuner's own objective then judges
// every nice step harmful and settles on the original, as it should.
// With the sched arms (2026-11-28, load 5) it passed (p99 off 1594, on
// 407 µs, medians of 3) but the tuner had settled on the original: one
// pinned hog beside one cyclictest leaves a mean run-queue wait of ~25 µs
// that SCHED_IDLE does not lower (-24 %, noise), so that gain was not the
// tuner's and the assertion stays opt-in. The tuner's gain is asserted
// where its objective sees it: bench's cpu-contention, four hogs on two
// CPUs (make bench-quick-ci, docs/bench.md).
func TestLiveCPUTunerFindsHog(t *testing.T) {
	testenv.RequireRoot(t, "eBPF, renice")
	for _, b := range []string{"stress-ng", "cyclictest", "taskset"} {
		if _, err := exec.LookPath(b); err != nil {
			testenv.SkipUnlessVM(t, "needs %s (scripts/dev-packages.txt)", b)
		}
	}
	testenv.LoadsCPU(t)
	const cpu = "1"
	hog := exec.Command("taskset", "-c", cpu, "stress-ng", "--cpu", "1", "--timeout", "300s", "--quiet")
	if err := hog.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { hog.Process.Signal(unix.SIGTERM); hog.Wait() }()
	// The latency-sensitive task the tuner sees all along; the measured
	// cyclictest runs beside it, in both arms alike.
	bg := exec.Command("taskset", "-c", cpu, "cyclictest", "-q", "-t", "1", "-p", "0", "--policy=other", "-i", "2000", "-D", "300s")
	if err := bg.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { bg.Process.Signal(unix.SIGTERM); bg.Wait() }()

	self := os.Getpid()
	cfg := tune.Config{CPU: tune.Act, Readahead: tune.Off, EffectWindow: time.Second, MaxSteps: 4,
		AllowPID: func(pid uint32) bool { return descendant(int(pid), self) }}
	work := t.TempDir()
	gain := os.Getenv("AINKA_TUNE_CPU_GAIN") == "1"
	rounds := 1
	if gain {
		rounds = 3
	}
	var off, on []float64
	for round := 0; round < rounds; round++ {
		if gain {
			off = append(off, cyclicP99(t, cpu, 4*time.Second))
		}
		pid := settleOnHog(t, work, cfg, hog.Process.Pid)
		if gain {
			on = append(on, cyclicP99(t, cpu, 4*time.Second))
			t.Logf("round %d: p99 off %.0f µs, on %.0f µs", round, off[round], on[round])
		}
		for _, l := range live {
			l.stop(t)
		}
		live = live[:0]
		if n := 20 - getpriority(pid); n != ownNice() {
			t.Errorf("the hog's nice after the daemon stopped: %d, want its original %d (the test's, which it inherits)", n, ownNice())
		}
	}
	if !gain {
		return
	}
	dev := make([]float64, len(off))
	for i, x := range off {
		dev[i] = math.Abs(x - median(off))
	}
	mOff, mOn, margin := median(off), median(on), median(dev)
	t.Logf("cyclictest p99, median of %d: off %.0f µs, on %.0f µs (%.1f×), noise margin %.0f µs", len(off), mOff, mOn, mOff/math.Max(mOn, 1), margin)
	if mOn >= mOff-margin {
		t.Errorf("p99 with the CPU tuner on (median %.0f µs) not below off (%.0f µs) by more than the off-runs' spread (%.0f µs)", mOn, mOff, margin)
	}
}

// live are the daemons settleOnHog started and not yet stopped.
var live []*liveTuner

// settleOnHog starts the daemon and waits until the CPU tuner has
// settled; it checks that the target is the hog's worker and that no
// nice it wrote was below the original. It returns the target's pid.
func settleOnHog(t *testing.T, work string, cfg tune.Config, hogPID int) int {
	t.Helper()
	kinds := []record.Kind{record.KindSchedSwitch, record.KindSchedWakeup, record.KindHostSample}
	l := startLive(t, work, kinds, false, cfg)
	live = append(live, l)
	if !waitFor(40*time.Second, func() bool { return l.tuner("cpu").State == "settled" }) {
		logResults(t, l.res.since(0))
		t.Fatalf("the CPU tuner did not settle within 40 s: %+v", l.tuner("cpu"))
	}
	ts := l.tuner("cpu")
	pid, _ := strconv.Atoi(strings.TrimPrefix(ts.Selector, "pid:"))
	if !strings.HasPrefix(ts.Target, "cpu/stress-ng") || pid == hogPID || !descendant(pid, hogPID) {
		t.Fatalf("the tuner chose %s (%s), not the hog (stress-ng's worker, a child of pid %d): %s", ts.Target, ts.Selector, hogPID, ts.Why)
	}
	rs := l.res.since(0)
	logResults(t, rs)
	for _, r := range rs {
		if n, err := strconv.Atoi(r.New); err == nil && r.AppliedNs != 0 && n < ownNice() {
			t.Errorf("nice written below the original %d: %s -> %s", ownNice(), r.Old, r.New)
		}
	}
	t.Logf("the tuner found the hog: %s (%s, confidence %.2f: %s); settled at nice %s, gain %+.0f%% after %d trials",
		ts.Selector, ts.Class, ts.Conf, ts.Why, ts.Setting, ts.GainPct, ts.Steps)
	return pid
}

// TestLiveOperatorPolicyWins: an operator's policy names the hog by its
// command name (nice name:stress-ng-cpu), the tuner would name it by pid.
// The keys differ, the process is the same: the tuner must leave it alone
// (TestLiveCPUTunerFindsHog is the same setup without the policy, where
// the tuner acts).
func TestLiveOperatorPolicyWins(t *testing.T) {
	testenv.RequireRoot(t, "eBPF, renice")
	for _, b := range []string{"stress-ng", "cyclictest", "taskset"} {
		if _, err := exec.LookPath(b); err != nil {
			testenv.SkipUnlessVM(t, "needs %s (scripts/dev-packages.txt)", b)
		}
	}
	testenv.LoadsCPU(t)
	for _, args := range [][]string{
		{"taskset", "-c", "1", "stress-ng", "--cpu", "1", "--timeout", "60s", "--quiet"},
		{"taskset", "-c", "1", "cyclictest", "-q", "-t", "1", "-p", "0", "--policy=other", "-i", "2000", "-D", "60s"},
	} {
		c := exec.Command(args[0], args[1:]...)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { c.Process.Signal(unix.SIGTERM); c.Wait() }()
	}
	work := t.TempDir()
	pf := work + "/policies.toml"
	// Its condition never holds: the operator's claim on the knob is the
	// rule, whether or not it fires.
	if err := os.WriteFile(pf, []byte(`[[policy]]
name = "hog-nice"
condition = "cpu_busy_pct > 1000"
action = "nice name:stress-ng-cpu = 5"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	cfg := tune.Config{CPU: tune.Act, Readahead: tune.Off, EffectWindow: time.Second, MaxSteps: 4,
		AllowPID: func(pid uint32) bool { return descendant(int(pid), self) }}
	kinds := []record.Kind{record.KindSchedSwitch, record.KindSchedWakeup, record.KindHostSample}
	l := startLiveWith(t, work, kinds, false, cfg, pf)
	time.Sleep(10 * time.Second) // the same tuner settles within 5-6 s without the policy
	for _, r := range l.res.since(0) {
		if r.Policy == "tuner:cpu" && r.AppliedNs != 0 {
			t.Errorf("the tuner wrote a knob an operator's policy holds: %s %s -> %s (%s)", r.Knob, r.Old, r.New, r.Why)
		}
	}
	if ts := l.tuner("cpu"); ts.State != "idle" || ts.Changes != 0 {
		t.Errorf("CPU tuner %s with %d changes, want idle: an operator's policy holds the hog's nice (%s)", ts.State, ts.Changes, ts.Last)
	}
}
