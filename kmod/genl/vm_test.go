package genl

// Tests against the real ainka_core.ko. They run inside the VM of
// scripts/vm/run.sh (make test-vm), where AINKA_VM=1 makes a missing
// module a failure; elsewhere they skip.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/ainka/ainka/internal/testenv"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const childEnv = "AINKA_GENL_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "spin":
		//lint:ignore SA5002 burning CPU is this child's job (a task to renice)
		for {
		}
	case "unpriv":
		os.Exit(unprivChild())
	}
	os.Exit(m.Run())
}

func dialVM(t *testing.T) Client {
	t.Helper()
	c, err := Dial()
	if errors.Is(err, ErrNotLoaded) {
		if os.Getenv("AINKA_VM") == "1" {
			t.Fatal("ainka_core is not loaded inside the VM")
		}
		t.Skip("ainka kernel module not loaded (run make test-vm)")
	}
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxBackground() context.Context { return context.Background() }

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// figure prints a line the host script echoes: the VM's measured numbers.
func figure(format string, args ...any) {
	fmt.Printf("AINKA-VM-FIGURE: "+format+"\n", args...)
}

func waitEvent(t *testing.T, ch <-chan Event, d time.Duration, match func(Event) bool) Event {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatal("event channel closed")
			}
			if match(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("no matching event within %v", d)
		}
	}
}

func TestVMStatus(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 10*time.Second)
	s1, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	s2, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Version != Version || s2.Samples <= s1.Samples || s2.Uptime <= s1.Uptime {
		t.Fatalf("status not live: %+v then %+v", s1, s2)
	}
	if s2.SampleInterval <= 0 {
		t.Fatalf("sample interval %v", s2.SampleInterval)
	}
	if s2.SampleCostP50 <= 0 || s2.SampleCostP50 > time.Second {
		t.Fatalf("sample cost median %v", s2.SampleCostP50)
	}
	figure("sampler: interval %v, %.0f samples/s, sample cost p50 %v (mean %v)",
		s2.SampleInterval, float64(s2.Samples-s1.Samples)/(s2.Uptime-s1.Uptime).Seconds(), s2.SampleCostP50, s2.SampleCost)
}

func TestVMPoliciesDump(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 60*time.Second)
	const n = 500
	for i := uint32(1); i <= n; i++ {
		p := Policy{ID: 1000 + i, Metric: MetricMemAvailableKB, Cmp: CmpLT, Threshold: -1,
			For: time.Duration(i) * time.Millisecond, Action: ActionNotify, Priority: i % 7,
			TargetState: StateOptimizing, RecKey: fmt.Sprintf("p%d.rec", i), RecValue: int64(i) * -3}
		if err := c.SetPolicy(ctx, p); err != nil {
			t.Fatalf("SetPolicy %d: %v", p.ID, err)
		}
	}
	ps, err := c.Policies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != n {
		t.Fatalf("dump returned %d policies, want %d", len(ps), n)
	}
	if !sort.SliceIsSorted(ps, func(i, j int) bool {
		if ps[i].Priority != ps[j].Priority {
			return ps[i].Priority > ps[j].Priority
		}
		return ps[i].ID < ps[j].ID
	}) {
		t.Fatal("dump not ordered by priority desc, id asc")
	}
	seen := map[uint32]bool{}
	for _, p := range ps {
		i := p.ID - 1000
		if seen[p.ID] || p.Metric != MetricMemAvailableKB || p.Cmp != CmpLT || p.Threshold != -1 ||
			p.For != time.Duration(i)*time.Millisecond || p.RecKey != fmt.Sprintf("p%d.rec", i) ||
			p.RecValue != int64(i)*-3 || p.TargetState != StateOptimizing || p.Active {
			t.Fatalf("dumped policy %+v differs from what was set", p)
		}
		seen[p.ID] = true
	}
	// Replace keeps the count; GET by id sees the new version.
	if err := c.SetPolicy(ctx, Policy{ID: 1001, Metric: MetricNrRunning, Cmp: CmpGT, Threshold: 1 << 40, Action: ActionNotify}); err != nil {
		t.Fatal(err)
	}
	p, err := c.Policy(ctx, 1001)
	if err != nil || p.Metric != MetricNrRunning || p.Threshold != 1<<40 {
		t.Fatalf("Policy(1001) = %+v, %v", p, err)
	}
	st, err := c.Status(ctx)
	if err != nil || st.Policies != n {
		t.Fatalf("status policies = %d, %v", st.Policies, err)
	}
	start := time.Now()
	for i := uint32(1); i <= n; i++ {
		if err := c.DelPolicy(ctx, 1000+i); err != nil {
			t.Fatalf("DelPolicy %d: %v", 1000+i, err)
		}
	}
	figure("500 policies: dump ok, delete %v/op", time.Since(start)/n)
	if err := c.DelPolicy(ctx, 1001); !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), "no policy") {
		t.Fatalf("DelPolicy of a deleted id = %v, want ENOENT with message", err)
	}
	if ps, err := c.Policies(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("after deleting all: %d policies, %v", len(ps), err)
	}
}

func readConsumer(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/ainka_consumer")
	if err != nil {
		t.Fatalf("test consumer module: %v", err)
	}
	return string(b)
}

func writeConsumer(t *testing.T, s string) {
	t.Helper()
	if err := os.WriteFile("/proc/ainka_consumer", []byte(s), 0); err != nil {
		t.Fatalf("write %q to /proc/ainka_consumer: %v", s, err)
	}
}

func TestVMRecommendationsAndConsumer(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 60*time.Second)
	const n = 300
	for i := 0; i < n; i++ {
		if err := c.SetRecommendation(ctx, fmt.Sprintf("bulk.%d", i), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := c.Recommendations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if v, ok := m[fmt.Sprintf("bulk.%d", i)]; !ok || v != int64(i) {
			t.Fatalf("dump: bulk.%d = %d, %v", i, v, ok)
		}
	}
	writeConsumer(t, "key vm.consumer")
	if got := readConsumer(t); !strings.HasPrefix(got, "vm.consumer ENOENT\n") {
		t.Fatalf("consumer before set: %q", got)
	}
	if err := c.SetRecommendation(ctx, "vm.consumer", -123456789); err != nil {
		t.Fatal(err)
	}
	if got := readConsumer(t); !strings.HasPrefix(got, "vm.consumer -123456789\n") {
		t.Fatalf("the kernel consumer does not see the recommendation: %q", got)
	}
	if v, err := c.Recommendation(ctx, "vm.consumer"); err != nil || v != -123456789 {
		t.Fatalf("Recommendation = %d, %v", v, err)
	}
	if err := c.DelRecommendation(ctx, "vm.consumer"); err != nil {
		t.Fatal(err)
	}
	if got := readConsumer(t); !strings.HasPrefix(got, "vm.consumer ENOENT\n") {
		t.Fatalf("consumer after delete: %q", got)
	}
	if _, err := c.Recommendation(ctx, "vm.consumer"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("Recommendation after delete = %v", err)
	}
	for i := 0; i < n; i++ {
		if err := c.DelRecommendation(ctx, fmt.Sprintf("bulk.%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	figure("kernel consumer saw the recommendation set from user space")
}

func TestVMConsumerEventsAndAnomaly(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 30*time.Second)
	ch, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writeConsumer(t, "event 4242")
	e := waitEvent(t, ch, 5*time.Second, func(e Event) bool { return e.Type == EventKernel })
	if e.Source != "ainka_consumer" || e.Value != 4242 || e.Metric != 1 {
		t.Fatalf("kernel event = %+v", e)
	}
	writeConsumer(t, "predict 4 750")
	e = waitEvent(t, ch, 5*time.Second, func(e Event) bool { return e.Type == EventPredictionRequest })
	if e.Metric != MetricLoad1Milli || e.HorizonMs != 750 || e.Seq == 0 {
		t.Fatalf("prediction request = %+v", e)
	}
	if !strings.Contains(readConsumer(t), fmt.Sprintf("predict_seq %d\n", e.Seq)) {
		t.Fatalf("consumer saw another seq than %d: %q", e.Seq, readConsumer(t))
	}
	// A detector slot nobody else uses: 20 quiet values, then a jump.
	for i := 0; i < 20; i++ {
		writeConsumer(t, fmt.Sprintf("anomaly 30 %d", 100+i%3))
		if i >= 16 && !strings.Contains(readConsumer(t), "anomaly 0\n") {
			t.Fatalf("quiet value flagged: %q", readConsumer(t))
		}
	}
	writeConsumer(t, "anomaly 30 100000")
	if !strings.Contains(readConsumer(t), "anomaly 1\n") {
		t.Fatalf("jump not flagged: %q", readConsumer(t))
	}
	if err := os.WriteFile("/proc/ainka_consumer", []byte("anomaly 99 1"), 0); err == nil {
		t.Fatal("detector slot 99 accepted")
	}
}

func percentile(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}

const intervalParam = "/sys/module/ainka_core/parameters/sample_interval_ms"

// setInterval switches the running sampler to ms and returns the undo.
func setInterval(t *testing.T, ms string) func() {
	t.Helper()
	old, err := os.ReadFile(intervalParam)
	if err != nil {
		t.Fatal(err)
	}
	apply := func(v string) error {
		if err := os.WriteFile(intervalParam, []byte(v), 0); err != nil {
			return err
		}
		return os.WriteFile("/proc/ainka", []byte("config_update"), 0)
	}
	if err := apply(ms); err != nil {
		t.Fatalf("sample_interval_ms=%s: %v", ms, err)
	}
	return func() { apply(strings.TrimSpace(string(old))) }
}

func TestVMFastPathDecisionLatency(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 120*time.Second)
	defer setInterval(t, "1")()
	if st, err := c.Status(ctx); err != nil || st.SampleInterval != time.Millisecond {
		t.Fatalf("sampler not at 1 ms: %v, %v", st.SampleInterval, err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	ch, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Forced true: available memory is always above 0 kB.
	p := Policy{ID: 1, Metric: MetricMemAvailableKB, Cmp: CmpGT, Threshold: 0, Action: ActionNotify,
		TargetState: StateEmergency, RecKey: "fastpath.mode", RecValue: 7, Priority: 100}
	if err := c.SetPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	defer c.DelPolicy(context.Background(), 1)
	e := waitEvent(t, ch, 5*time.Second, func(e Event) bool { return e.Type == EventDecision && e.RuleID == 1 })
	if e.State != StateEmergency || e.Value <= 0 || e.Metric != MetricMemAvailableKB || e.TsNs == 0 {
		t.Fatalf("decision = %+v", e)
	}
	if v, err := c.Recommendation(ctx, "fastpath.mode"); err != nil || v != 7 {
		t.Fatalf("pre-armed recommendation = %d, %v", v, err)
	}
	if st, _ := c.Status(ctx); st.State != StateEmergency {
		t.Fatalf("state after decision = %v", st.State)
	}
	if got, err := c.Policy(ctx, 1); err != nil || !got.Active || got.Hits != 1 {
		t.Fatalf("policy after firing = %+v, %v", got, err)
	}
	rec := e.AppendRecord(nil)
	if len(rec) != KernelDecisionSize {
		t.Fatalf("record of %d bytes", len(rec))
	}

	// Re-arm by reset, n times: each yields one decision.
	const n = 300
	var inKernel, toUser []time.Duration
	for i := 0; i < n; i++ {
		if err := c.Reset(ctx); err != nil {
			t.Fatal(err)
		}
		e := waitEvent(t, ch, 5*time.Second, func(e Event) bool { return e.Type == EventDecision && e.RuleID == 1 })
		inKernel = append(inKernel, e.Latency)
		toUser = append(toUser, time.Duration(e.RecvNs-e.TsNs))
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	figure("fast path @%v: condition->publication p50 %v p99 %v max %v (module, n=%d); condition->user-space receipt p50 %v p99 %v (n=%d)",
		st.SampleInterval, st.LatencyP50, st.LatencyP99, st.LatencyMax, st.LatencyCount,
		percentile(toUser, 50), percentile(toUser, 99), n)
	// The module's figures cover the same decisions the events carry.
	if p99 := percentile(inKernel, 99); st.LatencyCount < n || st.LatencyMax < p99 {
		t.Fatalf("module latency window (n=%d, max %v) misses the events' p99 %v", st.LatencyCount, st.LatencyMax, p99)
	}

	// The same decision through user space: sample /proc/meminfo every
	// 1 ms, decide, ask the module for the state over netlink, and wait
	// for the announcement.
	if err := c.DelPolicy(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var viaUser []time.Duration
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for i := 0; i < n; i++ {
		if err := c.SetState(ctx, StateLearning); err != nil {
			t.Fatal(err)
		}
		waitEvent(t, ch, 5*time.Second, func(e Event) bool { return e.Type == EventStateChange && e.State == StateLearning })
		for {
			<-tick.C
			avail, err := memAvailableKB()
			if err != nil {
				t.Fatal(err)
			}
			seen := monotonicNs()
			if avail > 0 {
				if err := c.SetState(ctx, StateEmergency); err != nil {
					t.Fatal(err)
				}
				e := waitEvent(t, ch, 5*time.Second, func(e Event) bool { return e.Type == EventStateChange && e.State == StateEmergency })
				viaUser = append(viaUser, time.Duration(e.RecvNs-seen))
				break
			}
		}
	}
	figure("user-space path @1ms (meminfo poll -> netlink SET_STATE -> announcement received): p50 %v p99 %v (n=%d)",
		percentile(viaUser, 50), percentile(viaUser, 99), n)
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
}

func memAvailableKB() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemAvailable:"); ok {
			return strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
		}
	}
	return 0, errors.New("no MemAvailable in /proc/meminfo")
}

// procNice reads the nice value of /proc/<task>/stat; task is a pid or
// "pid/task/tid".
func procNice(t *testing.T, task any) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%v/stat", task))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	n, err := strconv.Atoi(f[16]) // field 19: nice
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func startChild(t *testing.T, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func TestVMActuateRenice(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 30*time.Second)
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	pid := sleeper.Process.Pid
	r, err := c.Actuate(ctx, Actuation{Kind: ActionRenice, PID: uint32(pid), Value: 10})
	if err != nil || r.Prev != 0 || r.PID != uint32(pid) {
		t.Fatalf("Actuate renice = %+v, %v", r, err)
	}
	if n := procNice(t, pid); n != 10 {
		t.Fatalf("nice after actuation = %d", n)
	}
	// Stacked: the restore still goes back to the original value.
	if _, err := c.Actuate(ctx, Actuation{Kind: ActionRenice, PID: uint32(pid), Value: 15}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Actuate(ctx, Actuation{Kind: ActionRestore}); err != nil {
		t.Fatal(err)
	}
	if n := procNice(t, pid); n != 0 {
		t.Fatalf("nice after restore = %d, want 0", n)
	}
	// The module finds the top CPU consumer itself.
	spin := startChild(t, "spin")
	time.Sleep(300 * time.Millisecond)
	r, err = c.Actuate(ctx, Actuation{Kind: ActionRenice, Value: 5})
	if err != nil {
		t.Fatal(err)
	}
	// Nice is per thread: the module picks the spinning thread, which
	// may be any thread of the spinner's Go runtime.
	task := fmt.Sprintf("%d/task/%d", spin.Process.Pid, r.PID)
	if _, err := os.Stat("/proc/" + task); err != nil {
		t.Fatalf("top consumer = tid %d, not a thread of the spinner %d", r.PID, spin.Process.Pid)
	}
	if n := procNice(t, task); n != 5 {
		t.Fatalf("spinner nice = %d", n)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if n := procNice(t, task); n != 0 {
		t.Fatalf("spinner nice after reset = %d", n)
	}
	for _, bad := range []Actuation{{Kind: ActionRenice, PID: uint32(pid), Value: 20},
		{Kind: ActionRenice, PID: uint32(pid), Value: -21}, {Kind: ActionRenice, PID: 4000000, Value: 1}} {
		if _, err := c.Actuate(ctx, bad); err == nil {
			t.Fatalf("Actuate %+v accepted", bad)
		}
	}
	if _, err := c.Actuate(ctx, Actuation{Kind: ActionRenice, PID: 2, Value: 1}); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("renice of kthreadd = %v, want EPERM", err)
	}
}

func readaheadKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/sys/block/ram0/queue/read_ahead_kb")
	if err != nil {
		testenv.SkipUnlessVM(t, "no /dev/ram0 here: %v", err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func waitReadahead(t *testing.T, kb int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for readaheadKB(t) != kb {
		if time.Now().After(deadline) {
			t.Fatalf("read_ahead_kb = %d after the rule fired, want %d", readaheadKB(t), kb)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ram0(t *testing.T) uint32 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/dev/ram0", &st); err != nil {
		testenv.SkipUnlessVM(t, "no /dev/ram0 here: %v", err)
	}
	return DevT(unix.Major(st.Rdev), unix.Minor(st.Rdev))
}

func TestVMReadahead(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 30*time.Second)
	dev := ram0(t)
	orig := readaheadKB(t)
	r, err := c.Actuate(ctx, Actuation{Kind: ActionReadahead, Dev: dev, Value: 64})
	if err != nil || r.Prev*4 != int64(orig) {
		t.Fatalf("Actuate readahead = %+v, %v (orig %d KiB)", r, err, orig)
	}
	if kb := readaheadKB(t); kb != 256 {
		t.Fatalf("read_ahead_kb = %d, want 256", kb)
	}
	if _, err := c.Actuate(ctx, Actuation{Kind: ActionRestore}); err != nil {
		t.Fatal(err)
	}
	if kb := readaheadKB(t); kb != orig {
		t.Fatalf("read_ahead_kb after restore = %d, want %d", kb, orig)
	}
	// Taken by a fast-path rule, undone on recovery (the rule deleted).
	ch, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetPolicy(ctx, Policy{ID: 7, Metric: MetricMemAvailableKB, Cmp: CmpGT, Threshold: 0,
		Action: ActionReadahead, ActDev: dev, ActValue: 512}); err != nil {
		t.Fatal(err)
	}
	defer c.DelPolicy(context.Background(), 7)
	waitEvent(t, ch, 5*time.Second, func(e Event) bool { return e.Type == EventDecision && e.RuleID == 7 })
	// The decision is announced from the sampler; the actuation, which
	// opens the device and may sleep, follows from the workqueue.
	waitReadahead(t, 2048)
	if err := c.DelPolicy(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if kb := readaheadKB(t); kb != orig {
		t.Fatalf("read_ahead_kb after the rule went = %d, want %d", kb, orig)
	}
	if _, err := c.Actuate(ctx, Actuation{Kind: ActionReadahead, Dev: DevT(250, 250), Value: 8}); err == nil {
		t.Fatal("readahead of a missing device accepted")
	}
	if _, err := c.Actuate(ctx, Actuation{Kind: ActionReadahead, Dev: dev, Value: RAPagesMax + 1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ra_pages over the max = %v, want ErrInvalid (caught before sending)", err)
	}
}

func TestVMStateMachine(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 30*time.Second)
	ch, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetState(ctx, StatePredictiveScaling); err != nil {
		t.Fatal(err)
	}
	e := waitEvent(t, ch, 5*time.Second, func(e Event) bool { return e.Type == EventStateChange })
	if e.State != StatePredictiveScaling {
		t.Fatalf("state change = %+v", e)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, 5*time.Second, func(e Event) bool { return e.Type == EventStateChange && e.State == StateLearning })

	// ainka_enhanced drives learning -> optimizing once allowed to.
	param := "/sys/module/ainka_enhanced/parameters/"
	if _, err := os.Stat(param); err != nil {
		testenv.SkipUnlessVM(t, "ainka_enhanced not loaded: %v", err)
	}
	write := func(name, v string) {
		if err := os.WriteFile(param+name, []byte(v), 0); err != nil {
			t.Fatal(err)
		}
	}
	write("learn_ticks", "3")
	write("learning_mode", "0")
	defer func() {
		write("learning_mode", "1")
		write("emergency_pct", "3")
		c.Reset(context.Background())
	}()
	waitEvent(t, ch, 5*time.Second, func(e Event) bool {
		return e.Type == EventStateChange && e.State == StateOptimizing && e.PrevState == StateLearning
	})
	// A sudden drop of available memory is an anomaly.
	ballast := make([]byte, 256<<20)
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	waitEvent(t, ch, 10*time.Second, func(e Event) bool { return e.Type == EventStateChange && e.State == StateAnomalyDetection })
	ballast = nil
	runtime.GC()
	debug.FreeOSMemory()
	// Emergency from any state, left with hysteresis once the cause is gone.
	write("emergency_pct", "99")
	waitEvent(t, ch, 5*time.Second, func(e Event) bool { return e.Type == EventStateChange && e.State == StateEmergency })
	write("emergency_pct", "3")
	waitEvent(t, ch, 15*time.Second, func(e Event) bool {
		return e.Type == EventStateChange && e.PrevState == StateEmergency && e.State == StateOptimizing
	})
	figure("state machine: learning -> optimizing -> anomaly_detection on a 256 MiB allocation; emergency and back with hysteresis")
}

func readProc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/ainka")
	if err != nil {
		t.Fatalf("read /proc/ainka: %v", err)
	}
	return string(b)
}

func TestVMProcAinka(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 30*time.Second)
	w := func(cmd string) error { return os.WriteFile("/proc/ainka", []byte(cmd+"\n"), 0) }
	for _, cmd := range []string{"emergency", "learning", "debug", "debug", "reset", "config_update"} {
		if err := w(cmd); err != nil {
			t.Fatalf("write %q: %v", cmd, err)
		}
		if cmd == "emergency" && !strings.Contains(readProc(t), "state: emergency\n") {
			t.Fatalf("after 'emergency': %s", readProc(t))
		}
	}
	if err := w("bogus"); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("unknown command = %v, want EINVAL", err)
	}
	if err := w(strings.Repeat("x", 64)); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("overlong command = %v, want EINVAL", err)
	}
	// Parameters are validated on write too; config_update applies them.
	for _, bad := range []string{"0", "1001", "-1", "ten"} {
		if err := os.WriteFile(intervalParam, []byte(bad), 0); err == nil {
			t.Fatalf("sample_interval_ms=%s accepted", bad)
		}
	}
	before, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(intervalParam, []byte("7"), 0); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Status(ctx); st.SampleInterval != before.SampleInterval {
		t.Fatalf("interval changed before config_update: %v", st.SampleInterval)
	}
	defer setInterval(t, "7")()
	if st, _ := c.Status(ctx); st.SampleInterval != 7*time.Millisecond {
		t.Fatalf("interval after config_update: %v", st.SampleInterval)
	}
	for _, want := range []string{"version: 1\n", "state: learning\n", "latency_ns: p50 ", "policies: ", "recommendations: ", "actuations: 0\n"} {
		if !strings.Contains(readProc(t), want) {
			t.Fatalf("/proc/ainka lacks %q:\n%s", want, readProc(t))
		}
	}
}

func TestVMEverySignalSampled(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 30*time.Second)
	ch, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// One always-true rule per metric: each decision proves the sampler
	// reads that signal (PSI included).
	for m := MetricMemAvailableKB; m <= metricMax; m++ {
		if err := c.SetPolicy(ctx, Policy{ID: 500 + uint32(m), Metric: m, Cmp: CmpGE, Threshold: 0, Action: ActionNotify}); err != nil {
			t.Fatal(err)
		}
		defer c.DelPolicy(context.Background(), 500+uint32(m))
	}
	got := map[Metric]int64{}
	deadline := time.After(5 * time.Second)
	for len(got) < metricMax {
		select {
		case e := <-ch:
			if e.Type == EventDecision && e.RuleID == 500+uint32(e.Metric) {
				got[e.Metric] = e.Value
			}
		case <-deadline:
			t.Fatalf("signals sampled: %v; missing some of 1..%d", got, metricMax)
		}
	}
	var parts []string
	for m := MetricMemAvailableKB; m <= metricMax; m++ {
		parts = append(parts, fmt.Sprintf("%v=%d", m, got[m]))
	}
	figure("signals: %s", strings.Join(parts, " "))
}

// A rule whose condition clears undoes what it did: its actuation and
// its state.
func TestVMRecoveryRestores(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 60*time.Second)
	dev := ram0(t)
	orig := readaheadKB(t)
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	ch, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	avail, err := memAvailableKB()
	if err != nil {
		t.Fatal(err)
	}
	// True once 128 MiB of the available memory is taken.
	threshold := avail - 128<<10
	if err := c.SetPolicy(ctx, Policy{ID: 600, Metric: MetricMemAvailableKB, Cmp: CmpLT, Threshold: threshold,
		Action: ActionReadahead, ActDev: dev, ActValue: 1024, TargetState: StateEmergency}); err != nil {
		t.Fatal(err)
	}
	defer c.DelPolicy(context.Background(), 600)
	ballast := make([]byte, 256<<20)
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	e := waitEvent(t, ch, 10*time.Second, func(e Event) bool { return e.Type == EventDecision && e.RuleID == 600 })
	if e.State != StateEmergency || e.Value >= threshold {
		t.Fatalf("decision = %+v", e)
	}
	waitReadahead(t, 4096)
	ballast = nil
	runtime.GC()
	debug.FreeOSMemory()
	e = waitEvent(t, ch, 10*time.Second, func(e Event) bool { return e.Type == EventRecovery && e.RuleID == 600 })
	if e.State != StateLearning {
		t.Fatalf("state after recovery = %v, want learning again", e.State)
	}
	if kb := readaheadKB(t); kb != orig {
		t.Fatalf("read_ahead_kb after recovery = %d, want %d", kb, orig)
	}
	if st, err := c.Status(ctx); err != nil || st.Actuations != 0 {
		t.Fatalf("actuations left after recovery: %d, %v", st.Actuations, err)
	}
}

func TestVMForDuration(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 30*time.Second)
	ch, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set := monotonicNs()
	if err := c.SetPolicy(ctx, Policy{ID: 530, Metric: MetricMemAvailableKB, Cmp: CmpGT, Threshold: 0,
		For: 300 * time.Millisecond, Action: ActionNotify}); err != nil {
		t.Fatal(err)
	}
	defer c.DelPolicy(context.Background(), 530)
	e := waitEvent(t, ch, 10*time.Second, func(e Event) bool { return e.Type == EventDecision && e.RuleID == 530 })
	if held := time.Duration(e.TsNs - set); held < 300*time.Millisecond {
		t.Fatalf("rule fired %v after it was set, before its 300 ms for-duration", held)
	}
	if p, err := c.Policy(ctx, 530); err != nil || p.Hits != 1 || !p.Active {
		t.Fatalf("after firing: %+v, %v", p, err)
	}
}
