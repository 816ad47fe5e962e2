package controltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/stages/tune"
)

// FakeDaemon is an in-memory control.Daemon with fixed, recognisable
// answers. It is safe for concurrent use.
type FakeDaemon struct {
	mu        sync.Mutex
	Started   time.Time
	Emergency bool
	DryRun    bool
	policies  map[string]control.Policy
	// Calls records method names in call order, e.g. "Rollback(print)".
	Calls []string
	// Fail, when set, is returned by every method; set it with SetFail
	// once the server runs.
	Fail error
	// In is added to the source stage's input counter at each Status, so
	// the rates move.
	In uint64
}

// NewFakeDaemon returns a fake with one file policy, "cpu_high".
func NewFakeDaemon() *FakeDaemon {
	return &FakeDaemon{
		Started: time.Now().Add(-90 * time.Second),
		DryRun:  true,
		policies: map[string]control.Policy{
			"cpu_high": {Name: "cpu_high", Condition: "cpu_busy_pct > 90 for 5s", Action: "reduce_freq", Priority: 10, Enabled: true, Source: "file", State: "active", Effectiveness: 0.4, Fired: 3},
		},
	}
}

func (f *FakeDaemon) record(call string) error {
	f.Calls = append(f.Calls, call)
	return f.Fail
}

// SetFail makes every method return err (nil: succeed again).
func (f *FakeDaemon) SetFail(err error) {
	f.mu.Lock()
	f.Fail = err
	f.mu.Unlock()
}

// CallLog returns a copy of Calls.
func (f *FakeDaemon) CallLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Calls...)
}

func (f *FakeDaemon) Status(ctx context.Context) (control.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Fail != nil {
		return control.Status{}, f.Fail
	}
	f.In += 1000
	state := "optimizing"
	if f.Emergency {
		state = "emergency"
	}
	return control.Status{
		State: state, Mode: "replay", Version: "test", PID: os.Getpid(), StartedAt: f.Started,
		DryRun: f.DryRun, Emergency: f.Emergency, Policies: len(f.policies),
		KernelModule: control.ModuleStatus{Loaded: false},
		Stages: []control.StageStatus{
			{Name: "source", In: f.In, Out: f.In, QueueCap: 64},
			{Name: "decode", In: f.In, Out: f.In - 10, Dropped: 10, QueueLen: 3, QueueCap: 64},
		},
		Ring:     []control.KindStats{{Kind: "syscall", Seen: 5000, Emitted: 4990, Lost: 10}},
		Learning: control.Learning{Windows: 900, DetectorsWarm: 20, Detectors: 26, StateSinceSec: 42},
		Knobs: []control.KnobChange{{Knob: "sysctl:vm.swappiness", Original: "60", Current: "30", Policy: "swap-less",
			Why: "psi_mem_some_pct > 10 [psi_mem_some_pct=12.5]", Since: "2026-11-28T03:00:00Z"}},
	}, nil
}

func (f *FakeDaemon) Metrics(ctx context.Context, w io.Writer) error {
	f.mu.Lock()
	err := f.record("Metrics")
	f.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, `# HELP ainka_stage_in_total Items into a stage.
# TYPE ainka_stage_in_total counter
ainka_stage_in_total{stage="decode"} 12345
ainka_stage_in_total{stage="source"} 12400
ainka_events_total{kind="syscall"} 9000
ainka_ringbuf_lost_total{kind="syscall"} 7
go_goroutines 12
process_resident_memory_bytes 3.3554432e+07
`)
	return err
}

func (f *FakeDaemon) AddPolicy(ctx context.Context, p control.PolicySpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("AddPolicy " + p.Name); err != nil {
		return err
	}
	if _, dup := f.policies[p.Name]; dup {
		return fmt.Errorf("policy %q: %w: it already exists", p.Name, control.ErrConflict)
	}
	if strings.Contains(p.Condition, "??") {
		return fmt.Errorf("%w: condition %q: line 1, column %d: unexpected '?'", control.ErrInvalid, p.Condition, strings.Index(p.Condition, "??")+1)
	}
	f.policies[p.Name] = control.Policy{Name: p.Name, Condition: p.Condition, Action: p.Action, Priority: p.Priority, Enabled: true, Source: "api", State: "active"}
	return nil
}

func (f *FakeDaemon) ListPolicies(ctx context.Context) ([]control.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ListPolicies"); err != nil {
		return nil, err
	}
	out := make([]control.Policy, 0, len(f.policies))
	for _, p := range f.policies {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *FakeDaemon) RemovePolicy(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("RemovePolicy " + name); err != nil {
		return err
	}
	if _, ok := f.policies[name]; !ok {
		return fmt.Errorf("policy %q: %w", name, control.ErrNotFound)
	}
	delete(f.policies, name)
	return nil
}

func (f *FakeDaemon) Optimize(ctx context.Context) (control.OptimizeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("Optimize"); err != nil {
		return control.OptimizeResult{}, err
	}
	return control.OptimizeResult{State: "optimizing", DryRun: f.DryRun, Decisions: []control.Decision{
		{Policy: "cpu_high", Matched: true, Reason: "cpu_busy_pct 97.5 > 90", Action: "reduce_freq",
			Changes: []control.Change{{Knob: "cpufreq:policy0/energy_performance_preference", From: "performance", To: "balance_power"}}},
		{Policy: "io_slow", Matched: false, Reason: "blk_latency_p99_us 120 > 5000 is false"},
	}}, nil
}

func (f *FakeDaemon) SetEmergency(ctx context.Context, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(fmt.Sprintf("SetEmergency %v", on)); err != nil {
		return err
	}
	f.Emergency = on
	return nil
}

func (f *FakeDaemon) Reset(ctx context.Context) (control.ResetResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("Reset"); err != nil {
		return control.ResetResult{}, err
	}
	return control.ResetResult{Cleared: []string{"ewma baselines", "forecasters"},
		Reverted: []control.Change{{Knob: "sysctl:vm.swappiness", From: "10", To: "60"}}}, nil
}

func (f *FakeDaemon) Rollback(ctx context.Context, printOnly bool) (control.RollbackResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := "Rollback"
	if printOnly {
		call += "(print)"
	}
	if err := f.record(call); err != nil {
		return control.RollbackResult{}, err
	}
	r := control.RollbackResult{Restored: []control.Change{{Knob: "sysctl:vm.swappiness", From: "10", To: "60"}}}
	if printOnly {
		r.Restored = nil
		r.Commands = []string{"sysctl -w vm.swappiness=60"}
	}
	return r, nil
}

// SocketDir returns a new directory for a control socket that every user
// can traverse (t.TempDir is 0700), with a short path (unix socket paths
// are limited to 107 bytes). It is removed when the test ends.
func SocketDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ainka-ctl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// StartServer serves d on a socket in a new SocketDir until the test ends,
// and returns the server.
func StartServer(t testing.TB, d control.Daemon, opt control.Options) *control.Server {
	t.Helper()
	if opt.SocketPath == "" {
		opt.SocketPath = filepath.Join(SocketDir(t), "ainka.sock")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := control.NewServer(d, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("control server: %v", err)
		}
	})
	return s
}

// BuildCLI builds cmd/ainka-cli into a temporary directory and returns the
// binary's path. It must run with the working directory inside the module
// (as every go test does).
func BuildCLI(t testing.TB) string {
	t.Helper()
	return Build(t, "github.com/ainka/ainka/cmd/ainka-cli", "ainka-cli")
}

// Build builds a main package of the module into a temporary directory.
func Build(t testing.TB, pkg, name string) string {
	t.Helper()
	bin, err := BuildTo(t.TempDir(), pkg, name)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// BuildTo builds a main package of the module as dir/name, for a TestMain
// that builds once for all of a package's tests.
func BuildTo(dir, pkg, name string) (string, error) {
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// Result is one CLI run.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// RunCLI runs the CLI binary with AINKA_SOCKET set to socket (pass "" to
// leave the environment alone) and returns its output and exit code. It
// fails the test if the binary cannot be run at all or takes over 30 s.
func RunCLI(t testing.TB, bin, socket string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = os.Environ()
	if socket != "" {
		cmd.Env = append(cmd.Env, "AINKA_SOCKET="+socket)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		res.Code = ee.ExitCode()
	default:
		t.Fatalf("run %s %v: %v\nstderr: %s", bin, args, err, res.Stderr)
	}
	return res
}

// Tuners answers a CPU tuner settled on a batch hog and one setting kept.
func (f *FakeDaemon) Tuners(ctx context.Context) (tune.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("Tuners"); err != nil {
		return tune.Status{}, err
	}
	why := "stress-ng-cpu pid 4242: 0.98 CPU, runs 4.00 ms, 100% preempted, 0 wakeups/s, waits 12 µs to run"
	return tune.Status{Regime: 2, Regimes: 2, Tasks: 12, Devices: 1, TableBytes: 6680,
		Tuners: []tune.TunerStatus{
			{Name: "cpu", Mode: "act", State: "settled", Objective: "latency tasks' run-queue wait", Target: "cpu/stress-ng-cpu/batch",
				Selector: "pid:4242", Class: "batch", Conf: 0.91, Why: why, Setting: "19", Steps: 4, GainPct: 46, Changes: 5},
			{Name: "readahead", Mode: "advise", State: "idle", Objective: "device read progress"},
		},
		Entities: []tune.EntityStatus{{Kind: "task", Name: "pid:4242", Class: "batch", Conf: 0.91, Why: why}},
		Best:     []tune.Best{{Regime: 2, Target: "cpu/stress-ng-cpu/batch", Value: "19", Gain: 0.46, Trials: 4}},
	}, nil
}
