package closedloop

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"

	"golang.org/x/sys/unix"

	"github.com/VictoriaMetrics/metrics"
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/stages/tune"
)

var (
	runs      = flag.Int("runs", 5, "runs with AINKA off and with AINKA on")
	runFor    = flag.Duration("run-for", 20*time.Second, "length of one run")
	hogs      = flag.Int("hogs", 4, "stress-ng CPU workers")
	interval  = flag.Duration("interval", 100*time.Millisecond, "collection interval (window length)")
	threshold = flag.Int("threshold-us", 2000, "runq_latency_p99_us threshold of the policy")
	latFor    = flag.Duration("latency-for", 30*time.Second, "length of the condition-to-write latency run (0: skip)")
	lateness  = flag.Duration("lateness", 0, "aggregate lateness (0: the aggregator's default, half the interval)")
	effThr    = flag.Float64("effectiveness-threshold", -1, "policy_effectiveness_threshold (-1: never revert, so that every on-run keeps its action)")
	hostPhase = flag.Duration("host-phase", -1, "host samples at this phase past each window end, as a watermark that closes the window (negative: as ainka run, settings.Live; 0s: off)")
	rtPrio    = flag.Int("rt", 0, "SCHED_FIFO priority of the pipeline's stage threads (0: none; pipeline.Options.RealTime)")
	inline    = flag.Bool("inline", false, "every stage on the source's goroutine (pipeline.Options.Inline): with -rt, one SCHED_FIFO thread from the ring to the write")
	kwait     = flag.Bool("kernel-wait", true, "with -rt: the source waits for the ring and the host samples in its own epoll_wait on a timerfd (source.Config.KernelWait, as ainka run with realtime_priority); false: Go's poller")
	wakeSpin  = flag.Duration("wake-spin", 0, "source.Config.WakeSpin: spin this long before each host sample (daemon.realtime_wake_spin_us)")
	readDL    = flag.Duration("read-deadline", 0, "source ring read deadline (0: the source default for the interval, source.DefaultReadDeadline)")
)

func mono() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// groups are the experiment's cgroups: one directory per hierarchy that
// must hold the processes (v2 always; v1 cpu when the host binds cpu there).
type groups struct {
	v2, v1   string // roots
	rel      string // ainka-cl-PID
	useV1    bool
	hogs, rt string // relative paths
	probe    string
	created  []string
}

func setup(t *testing.T) *groups {
	root, err := actuate.FindCgroup2("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no cgroup2: %v", err)
	}
	g := &groups{v2: root, v1: actuate.FindCgroup1CPU("/proc/self/mountinfo"), rel: fmt.Sprintf("ainka-cl-%d", os.Getpid())}
	ctrls := readTrim(filepath.Join(root, "cgroup.controllers"))
	g.useV1 = !strings.Contains(" "+ctrls+" ", " cpu ")
	if g.useV1 && g.v1 == "" {
		t.Skip("no cpu controller in cgroup v2 or v1")
	}
	g.hogs, g.rt, g.probe = g.rel+"/hogs", g.rel+"/rt", g.rel+"/probe"
	for _, r := range g.roots() {
		for _, d := range []string{g.rel, g.hogs, g.rt, g.probe} {
			p := filepath.Join(r, d)
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			g.created = append(g.created, p)
		}
	}
	if g.useV1 {
		// cyclictest sets a scheduling policy at start, which a v1 cpu
		// cgroup without a real-time budget refuses (with
		// CONFIG_RT_GROUP_SCHED): give the rt group a small one.
		for _, d := range []string{g.rel, g.rt} {
			f := filepath.Join(g.v1, d, "cpu.rt_runtime_us")
			if _, err := os.Stat(f); err == nil {
				if err := os.WriteFile(f, []byte("50000"), 0); err != nil {
					t.Fatalf("rt budget %s: %v", f, err)
				}
			}
		}
	}
	if !g.useV1 {
		for _, d := range []string{"", g.rel} {
			f := filepath.Join(root, d, "cgroup.subtree_control")
			if !strings.Contains(readTrim(f), "cpu") {
				if err := os.WriteFile(f, []byte("+cpu"), 0); err != nil {
					t.Fatalf("enable cpu in %s: %v", f, err)
				}
			}
		}
	}
	t.Cleanup(g.remove)
	return g
}

func (g *groups) roots() []string {
	if g.useV1 {
		return []string{g.v2, g.v1}
	}
	return []string{g.v2}
}

func (g *groups) remove() {
	for i := len(g.created) - 1; i >= 0; i-- {
		for k := 0; k < 100 && os.Remove(g.created[i]) != nil; k++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// start runs a command inside cgroup rel of every hierarchy.
func (g *groups) start(t *testing.T, rel string, args ...string) *exec.Cmd {
	var sh strings.Builder
	for _, r := range g.roots() {
		fmt.Fprintf(&sh, "echo $$ > %s/cgroup.procs && ", filepath.Join(r, rel))
	}
	sh.WriteString("exec \"$@\"")
	cmd := exec.Command("sh", append([]string{"-c", sh.String(), "sh"}, args...)...)
	return cmd
}

func readTrim(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}

// cyclicP99 parses cyclictest's histogram (-h) output: p99 and max in µs.
func cyclicP99(out string) (p99, maxUs float64, n int, err error) {
	var hist []int
	overflow := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "# Histogram Overflows:") {
			overflow, _ = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(l, "# Histogram Overflows:")))
		}
		for _, pre := range []string{"# Max Latencys:", "# Max Latencies:"} {
			if strings.HasPrefix(l, pre) {
				maxUs, _ = strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(l, pre)), 64)
			}
		}
		f := strings.Fields(l)
		if len(f) == 2 && !strings.HasPrefix(l, "#") {
			b, e1 := strconv.Atoi(f[0])
			c, e2 := strconv.Atoi(f[1])
			if e1 == nil && e2 == nil {
				for len(hist) <= b {
					hist = append(hist, 0)
				}
				hist[b] = c
			}
		}
	}
	for _, c := range hist {
		n += c
	}
	n += overflow
	if n == 0 {
		return 0, 0, 0, fmt.Errorf("no samples in cyclictest output: %.200s", out)
	}
	want := int(math.Ceil(0.99 * float64(n)))
	acc := 0
	for b, c := range hist {
		acc += c
		if acc >= want {
			return float64(b), maxUs, n, nil
		}
	}
	return maxUs, maxUs, n, nil // p99 among the overflows: at most the max
}

// timed records when each window reaches decide, against its EndNs.
type timed struct {
	d    pipeline.Processor[tune.Window, decide.Decision] // decide behind the tune stage
	skip uint64                                           // windows ending before this are start-up backlog, not counted
	st   *stamps
	mu   sync.Mutex
	lat  []float64 // µs from window end to decide
}

func (t *timed) Process(in []tune.Window, out []decide.Decision) []decide.Decision {
	now := mono()
	t.mu.Lock()
	for i := range in {
		e := in[i].Out.Vector.EndNs
		if now > e && e > t.skip {
			t.lat = append(t.lat, float64(now-e)/1e3)
		}
		t.st.mark(t.st.decideIn, e, now)
	}
	t.mu.Unlock()
	out = t.d.Process(in, out)
	done := mono()
	for i := range in {
		t.st.mark(t.st.decideOut, in[i].Out.Vector.EndNs, done)
	}
	return out
}

// timedAgg records, for every window the aggregator closes, the time from
// the window's end to its closing: the part of the condition-to-decision
// latency spent before the window exists (ring read deadline, decode,
// waiting for a record past end + lateness); timed has the rest.
type timedAgg struct {
	a    *aggregate.Stage
	st   *stamps
	skip uint64
	mu   sync.Mutex
	lat  []float64 // µs from window end to the window closed
}

func (t *timedAgg) Process(in []decode.Event, out []aggregate.Window) []aggregate.Window {
	n := len(out)
	out = t.a.Process(in, out)
	now := mono()
	t.mu.Lock()
	for i := n; i < len(out); i++ {
		if e := out[i].EndNs; now > e && e > t.skip {
			t.lat = append(t.lat, float64(now-e)/1e3)
		}
		t.st.mark(t.st.closed, out[i].EndNs, now)
	}
	t.mu.Unlock()
	return out
}

func (t *timedAgg) Flush(out []aggregate.Window) []aggregate.Window { return t.a.Flush(out) }

// collect keeps the actuate results.
type collect struct {
	a   *actuate.Stage
	mu  sync.Mutex
	res []actuate.Result
}

func (c *collect) Process(in []decide.Decision, out []actuate.Result) []actuate.Result {
	n := len(out)
	out = c.a.Process(in, out)
	c.mu.Lock()
	c.res = append(c.res, out[n:]...)
	c.mu.Unlock()
	return out
}

type loop struct {
	cancel context.CancelFunc
	done   chan error
	tm     *timed
	ta     *timedAgg
	col    *collect
	act    *actuate.Stage
}

// runAINKA starts the live pipeline with the given policies.
func runAINKA(t *testing.T, policies string, work string, knobInterval time.Duration) *loop {
	pf := filepath.Join(work, "policies.toml")
	if err := os.WriteFile(pf, []byte(policies), 0o644); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("AINKA_CLOSED_LOOP_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	set := metrics.NewSet()
	phase := phaseFor(*hostPhase, *interval)
	cfg := source.Config{HostInterval: *interval, HostPhase: phase, ReadDeadline: *readDL, WakeupBytes: 4096, Metrics: set,
		KernelWait: *kwait && *rtPrio > 0, WakeSpin: *wakeSpin}
	cfg.Kinds = []record.Kind{record.KindSchedSwitch, record.KindSchedWakeup, record.KindHostSample}
	live, err := source.NewLive(cfg)
	if err != nil {
		t.Fatalf("live source: %v", err)
	}
	st := newStamps()
	ta := &timedAgg{skip: mono() + 2e9, st: st}
	tm := &timed{skip: mono() + 2e9, st: st}
	col := &collect{}
	c, err := daemon.Build(live, daemon.ChainOptions{
		Settings: settings.Settings{Interval: *interval, Lateness: *lateness, HostPhase: phase, Kinds: source.TraceKinds(live.KernelPolicy(), live.HostSamples())},
		Metrics:  set,
		RealTime: *rtPrio,
		Inline:   *inline,
		Adjust: func(s *daemon.StageConfigs) {
			s.Predict.ModelPath = filepath.Join(work, "model.json")
			s.Decide = decide.Config{PolicyFile: pf, EvalInterval: -1, LearningDuration: -1, EffectivenessThreshold: *effThr, Logger: logger}
			s.Actuate = actuate.Config{JournalPath: filepath.Join(work, "journal"), KnobInterval: knobInterval, MaxWritesPerS: 1000, Logger: logger}
		},
		Wrap: []daemon.Wrapper{
			daemon.WrapStage("aggregate", func(p pipeline.Processor[decode.Event, aggregate.Window]) pipeline.Processor[decode.Event, aggregate.Window] {
				ta.a = p.(*aggregate.Stage)
				return ta
			}),
			daemon.WrapStage("decide", func(p pipeline.Processor[tune.Window, decide.Decision]) pipeline.Processor[tune.Window, decide.Decision] {
				tm.d = p
				return tm
			}),
			daemon.WrapStage("actuate", func(p pipeline.Processor[decide.Decision, actuate.Result]) pipeline.Processor[decide.Decision, actuate.Result] {
				col.a = p.(*actuate.Stage)
				return col
			}),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, a := c.Pipeline, c.Actuate
	ctx, cancel := context.WithCancel(context.Background())
	l := &loop{cancel: cancel, done: make(chan error, 1), tm: tm, ta: ta, col: col, act: a}
	go func() {
		err := p.Run(ctx)
		live.Close()
		l.done <- err
	}()
	return l
}

// phaseFor resolves -host-phase: -1 = what `ainka run` uses at this
// interval (settings.Live), so that each host sample closes the window
// it follows as a watermark.
func phaseFor(flagPhase, interval time.Duration) time.Duration {
	if flagPhase >= 0 {
		return flagPhase
	}
	return settings.Live(interval).HostPhase
}

func (l *loop) stop(t *testing.T) {
	l.cancel()
	if err := <-l.done; err != nil && ctxErr(err) {
		t.Logf("pipeline: %v", err)
	}
	l.act.Close()
}

func ctxErr(err error) bool { return !strings.Contains(err.Error(), "context canceled") }

func pct(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func spread(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	return fmt.Sprintf("median %.0f, min %.0f, max %.0f, mean %.0f (n=%d)", s[len(s)/2], s[0], s[len(s)-1], sum/float64(len(s)), len(s))
}

type report struct {
	Interval           string
	Lateness           string
	Nice               int
	Hogs               int
	RunFor             string
	OffP99, OnP99      []float64
	OffMax, OnMax      []float64
	ActLatencyUs       []float64 // window end -> write applied, per actuation
	JournalSyncs       uint64    // fsyncs of the journal during the latency run (0: none on the path)
	StageLatencyUs     []float64 // actuate took the decision -> write applied
	WindowToDecideUs   []float64 `json:"-"`
	WindowToCloseUs    []float64 `json:"-"`
	CloseP50, CloseP99 float64
	CloseP999          float64
	WindowP50, WinP99  float64
	WinP999            float64
	Windows            int
}

// TestClosedLoop runs the loop with AINKA off and on, alternately, and
// asserts that AINKA lowers the median cyclictest p99 by more than the
// off-runs' own spread. AINKA_CLOSED_LOOP=short runs the short version:
// 5 + 5 runs of 5 s, each measured once the loop has settled (on: after
// AINKA's first action; off: as long after the start), about a minute and
// a half. AINKA_CLOSED_LOOP=1 runs the experiment of docs/actuate.md with
// the flags' values, measured from the start.
//
// It is not part of go test ./...: on a quiet 2-core host the hogs, in a
// cgroup of their own, do not delay cyclictest enough for the policy's
// cpu.weight change to help (a clean run measured off 138 µs, on 219 µs;
// the 1.8× of docs/actuate.md was measured with other jobs loading the
// host), so the assertion would fail on a correct build. The effectiveness
// suite's cpu-contention scenario (ainka-bench) is the measured claim.
func TestClosedLoop(t *testing.T) {
	settle := false
	switch os.Getenv("AINKA_CLOSED_LOOP") {
	case "":
		t.Skip("set AINKA_CLOSED_LOOP=short (or =1 for the full experiment): see the comment on TestClosedLoop for why it is not in go test ./...")
	case "short":
		*runs, *runFor, *latFor, settle = 5, 5*time.Second, 0, true
	}
	testenv.RequireRoot(t, "eBPF, cgroups")
	for _, b := range []string{"stress-ng", "cyclictest"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("needs %s (apt-get install stress-ng rt-tests)", b)
		}
	}
	testenv.LoadsCPU(t)
	g := setup(t)
	work := t.TempDir()
	rep := report{Interval: interval.String(), Lateness: lateness.String(), Hogs: *hogs, RunFor: runFor.String()}
	if pi, err := unix.Getpriority(unix.PRIO_PROCESS, 0); err == nil {
		rep.Nice = 20 - pi // the raw syscall returns 20 - nice
	}
	t.Logf("interval %v, lateness %v (0 = default), read deadline %v (0 = default), host sample phase %v (0 = unaligned), nice %d, SCHED_FIFO %d (0: none), inline %v, kernel wait %v, wake spin %v, %d hogs, runs of %v; load average %s",
		*interval, *lateness, *readDL, phaseFor(*hostPhase, *interval), rep.Nice, *rtPrio, *inline, *kwait && *rtPrio > 0, *wakeSpin, *hogs, *runFor, loadavg())
	policy := fmt.Sprintf(`[[policy]]
name = "hogs-weight"
condition = "runq_latency_p99_us > %d for 1s"
action = "cgroup %s cpu.weight = 10"
objective = "minimize runq_latency_p99_us"
priority = 80
cooldown = "0s"
`, *threshold, g.hogs)

	one := func(on bool) (float64, float64, []actuate.Result) {
		dur := int(runFor.Seconds())
		hog := g.start(t, g.hogs, "stress-ng", "--cpu", strconv.Itoa(*hogs), "--timeout", strconv.Itoa(dur+10)+"s", "--quiet")
		if err := hog.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { hog.Process.Signal(unix.SIGTERM); hog.Wait() }()
		var l *loop
		if on {
			l = runAINKA(t, policy, work, -1)
		}
		time.Sleep(time.Second)
		if settle {
			waited := time.Duration(0)
			for ; waited < settleMax && (l == nil || !l.acted()); waited += 100 * time.Millisecond {
				time.Sleep(100 * time.Millisecond)
				if l == nil && waited >= settleOff {
					break
				}
			}
			if l != nil && !l.acted() {
				t.Fatalf("AINKA did not act within %v of the hogs' start", settleMax+time.Second)
			}
		}
		ct := g.start(t, g.rt, "cyclictest", "-q", "-m", "-t", "1", "-p", "0", "--policy=other", "-i", "1000",
			"-h", "100000", "-D", strconv.Itoa(dur)+"s")
		out, err := ct.CombinedOutput()
		var res []actuate.Result
		if l != nil {
			l.stop(t)
			l.col.mu.Lock()
			res = l.col.res
			l.col.mu.Unlock()
			l.tm.mu.Lock()
			rep.WindowToDecideUs = append(rep.WindowToDecideUs, l.tm.lat...)
			l.tm.mu.Unlock()
			l.ta.mu.Lock()
			rep.WindowToCloseUs = append(rep.WindowToCloseUs, l.ta.lat...)
			l.ta.mu.Unlock()
		}
		if err != nil {
			t.Fatalf("cyclictest: %v %.2000s", err, out)
		}
		p99, mx, n, err := cyclicP99(string(out))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("AINKA on=%v: cyclictest p99 %.0f µs, max %.0f µs (%d samples), %d actuation results", on, p99, mx, n, len(res))
		return p99, mx, res
	}
	for i := 0; i < *runs; i++ {
		p, m, _ := one(false)
		rep.OffP99, rep.OffMax = append(rep.OffP99, p), append(rep.OffMax, m)
		p, m, res := one(true)
		rep.OnP99, rep.OnMax = append(rep.OnP99, p), append(rep.OnMax, m)
		for _, r := range res {
			if r.Status == actuate.Measured {
				t.Logf("  measured effect: %s", r.Why)
			}
			if r.Status == actuate.Applied && r.Kind == decide.Apply {
				rep.ActLatencyUs = append(rep.ActLatencyUs, float64(r.AppliedNs-r.TimeNs)/1e3)
				rep.StageLatencyUs = append(rep.StageLatencyUs, float64(r.AppliedNs-r.ReceivedNs)/1e3)
				t.Logf("  applied %s %s -> %s (%s) %.0f µs after the window closed; why: %s", r.Knob, r.Old, r.New, r.Clamped, float64(r.AppliedNs-r.TimeNs)/1e3, r.Why)
			}
		}
	}
	// condition-to-write latency at volume: a policy on a probe cgroup
	// whose condition (latency above its own forecast) flips every few
	// windows, with its revert right after, so that every flip to true is
	// a write.
	var bd breakdown
	if *latFor > 0 {
		probe := fmt.Sprintf(`[[policy]]
name = "latency-probe"
condition = "%s"
action = "cgroup %s cpu.weight = 10"
cooldown = "0s"
revert_after = "1ns"
`, probeCondition(), g.probe)
		hog := g.start(t, g.hogs, "stress-ng", "--cpu", strconv.Itoa(*hogs), "--timeout", strconv.Itoa(int(latFor.Seconds())+10)+"s", "--quiet")
		if *hogs > 0 { // stress-ng --cpu 0 is one hog per CPU
			hog.Start()
		}
		if tg := g.startToggler(t, g.rt); tg != nil {
			defer func() { tg.Process.Kill(); tg.Wait() }()
		}
		cpu0, wall0 := cpuTime(), time.Now()
		l := runAINKA(t, probe, work, -1)
		syncs := l.act.JournalSyncs() // the claim at policy load
		gc0 := gcStats()
		time.Sleep(*latFor)
		t.Logf("Go GC during the latency run: %s", gcStats().since(gc0))
		rep.JournalSyncs = l.act.JournalSyncs() - syncs
		l.stop(t)
		t.Logf("journal fsyncs during the latency run: %d (the probe's knob was claimed at policy load: %d before)", rep.JournalSyncs, syncs)
		t.Logf("this process's CPU during the latency run: %.1f %% of one CPU (the pipeline's, with -wake-spin its spin)",
			100*(cpuTime()-cpu0).Seconds()/time.Since(wall0).Seconds())
		if *hogs > 0 {
			hog.Process.Signal(unix.SIGTERM)
			hog.Wait()
		}
		for _, r := range l.col.res {
			if r.Status == actuate.Applied && r.Kind == decide.Apply {
				rep.ActLatencyUs = append(rep.ActLatencyUs, float64(r.AppliedNs-r.TimeNs)/1e3)
				rep.StageLatencyUs = append(rep.StageLatencyUs, float64(r.AppliedNs-r.ReceivedNs)/1e3)
			}
		}
		rep.WindowToDecideUs = append(rep.WindowToDecideUs, l.tm.lat...)
		rep.WindowToCloseUs = append(rep.WindowToCloseUs, l.ta.lat...)
		bd.add(l.tm.st, l.col.res)
	}
	rep.Windows = len(rep.WindowToDecideUs)
	rep.CloseP50, rep.CloseP99, rep.CloseP999 = pct(rep.WindowToCloseUs, .5), pct(rep.WindowToCloseUs, .99), pct(rep.WindowToCloseUs, .999)
	rep.WindowP50, rep.WinP99, rep.WinP999 = pct(rep.WindowToDecideUs, .5), pct(rep.WindowToDecideUs, .99), pct(rep.WindowToDecideUs, .999)
	t.Logf("cyclictest p99 µs, AINKA off: %s", spread(rep.OffP99))
	t.Logf("cyclictest p99 µs, AINKA on:  %s", spread(rep.OnP99))
	t.Logf("cyclictest max µs, AINKA off: %s", spread(rep.OffMax))
	t.Logf("cyclictest max µs, AINKA on:  %s", spread(rep.OnMax))
	t.Logf("condition (window end) -> write applied, µs: p50 %.0f p99 %.0f p99.9 %.0f (n=%d)",
		pct(rep.ActLatencyUs, .5), pct(rep.ActLatencyUs, .99), pct(rep.ActLatencyUs, .999), len(rep.ActLatencyUs))
	t.Logf("of which in the actuate stage (journal + write), µs: p50 %.0f p99 %.0f p99.9 %.0f",
		pct(rep.StageLatencyUs, .5), pct(rep.StageLatencyUs, .99), pct(rep.StageLatencyUs, .999))
	t.Logf("window end -> decide, µs (every window): p50 %.0f p99 %.0f p99.9 %.0f (n=%d)", rep.WindowP50, rep.WinP99, rep.WinP999, rep.Windows)
	t.Logf("of which window end -> window closed by the aggregator, µs: p50 %.0f p99 %.0f p99.9 %.0f (n=%d)",
		rep.CloseP50, rep.CloseP99, rep.CloseP999, len(rep.WindowToCloseUs))
	t.Logf("segments of the probe's applied changes, µs:%s", bd.String())
	t.Logf("load average at the end: %s", loadavg())
	if out := os.Getenv("AINKA_CLOSED_LOOP_OUT"); out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		os.WriteFile(out, b, 0o644)
	}
	if len(rep.ActLatencyUs) == 0 {
		t.Error("AINKA never acted: the condition never held (is the threshold above what the hogs cause?)")
	}
	if off, on, margin := improvement(rep.OffP99, rep.OnP99); on >= off-margin {
		t.Errorf("cyclictest p99 median with AINKA on %.0f µs, off %.0f µs: not lower by more than the off-runs' spread (median absolute deviation %.0f µs)", on, off, margin)
	}
}

// settleOff is how long an off-run waits before measuring, about when an
// on-run's action comes (the policy's "for 1s" after the first windows);
// settleMax bounds an on-run's wait for it.
const settleOff, settleMax = 2 * time.Second, 15 * time.Second

// acted reports whether the loop has applied an action.
func (l *loop) acted() bool {
	l.col.mu.Lock()
	defer l.col.mu.Unlock()
	for _, r := range l.col.res {
		if r.Status == actuate.Applied && r.Kind == decide.Apply {
			return true
		}
	}
	return false
}

// improvement returns the median p99 of the off- and on-runs and the
// margin an improvement must exceed: the median absolute deviation of the
// off-runs, their run-to-run noise with nothing changed.
func improvement(off, on []float64) (offMed, onMed, margin float64) {
	offMed, onMed = pct(off, .5), pct(on, .5)
	dev := make([]float64, len(off))
	for i, x := range off {
		dev[i] = math.Abs(x - offMed)
	}
	return offMed, onMed, pct(dev, .5)
}

func TestCyclicParse(t *testing.T) {
	out := "# comment\n000000 000000\n000001 000090\n000002 000009\n000003 000001\n# Total: 000000100\n# Max Latencies: 00003\n# Histogram Overflows: 00000\n"
	p, m, n, err := cyclicP99(out)
	if err != nil || p != 2 || m != 3 || n != 100 {
		t.Errorf("p99 %v max %v n %d err %v", p, m, n, err)
	}
	if _, _, _, err := cyclicP99("nothing"); err == nil {
		t.Error("empty output parsed")
	}
}

// The assertion itself, on the figures of docs/actuate.md and on runs
// where AINKA's gain drowns in the noise.
func TestImprovement(t *testing.T) {
	off := []float64{3875, 2537, 3097, 3265, 4399}
	if o, n, m := improvement(off, []float64{1842, 239, 1891, 2380, 317}); o != 3265 || n != 1842 || m != 610 || n >= o-m {
		t.Errorf("docs/actuate.md runs: off %v on %v margin %v, want 3265, 1842, 610 and an improvement", o, n, m)
	}
	if o, n, m := improvement(off, []float64{2900, 2800, 3700, 2700, 3300}); n < o-m {
		t.Errorf("a 365 µs gain within a 610 µs spread passed: off %v on %v margin %v", o, n, m)
	}
}
