package actuate

import (
	"context"
	"errors"
	"github.com/ainka/ainka/internal/testenv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/kmod/genl"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeSys builds a directory tree that looks like /proc/sys and /sys/block.
func fakeSys(t *testing.T) (root string, cfg Config) {
	root = t.TempDir()
	files := map[string]string{
		"sys/vm/swappiness":               "60\n",
		"sys/vm/dirty_ratio":              "15\n",
		"sys/vm/dirty_background_ratio":   "10\n",
		"sys/net/core/rmem_max":           "4194304\n",
		"sys/net/core/somaxconn":          "4096\n",
		"sys/net/ipv4/tcp_rmem":           "4096\t131072\t6291456\n",
		"block/fake0/queue/read_ahead_kb": "128\n",
	}
	for p, v := range files {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(v), 0o644)
	}
	os.MkdirAll(filepath.Join(root, "cpu", "cpu0"), 0o755)
	cfg = Config{ProcSys: filepath.Join(root, "sys"), SysBlock: filepath.Join(root, "block"), CPUDir: filepath.Join(root, "cpu"),
		CgroupRoot: filepath.Join(root, "cg"), JournalPath: filepath.Join(root, "work", "journal"),
		KnobInterval: -1, Logger: quiet}
	return root, cfg
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return norm(string(b))
}

func dec(t *testing.T, act string) decide.Decision {
	t.Helper()
	a, err := action.Parse(act)
	if err != nil {
		t.Fatal(err)
	}
	return decide.Decision{TimeNs: 1, Kind: decide.Apply, Policy: "test", Action: a, Condition: "cpu > 1"}
}

func one(t *testing.T, s *Stage, act string) Result {
	t.Helper()
	out := s.Process([]decide.Decision{dec(t, act)}, nil)
	if len(out) != 1 {
		t.Fatalf("%s: %d results", act, len(out))
	}
	return out[0]
}

func TestComputeAndClamp(t *testing.T) {
	root, cfg := fakeSys(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		act, file, want, clamped string
		st                       Status
	}{
		{"sysctl vm.swappiness = 10", "sys/vm/swappiness", "30", "step bounded to ±30", Applied},
		{"sysctl vm.swappiness -= 5", "sys/vm/swappiness", "25", "", Applied},
		{"sysctl vm.swappiness = 25", "sys/vm/swappiness", "25", "", Unchanged},
		{"sysctl net.core.somaxconn *= 100", "sys/net/core/somaxconn", "32768", "step bounded to ×8", Applied},
		{"sysctl net.core.somaxconn *= 8", "sys/net/core/somaxconn", "65535", "clamped to [128, 65535]", Applied},
		// coupled: tcp_rmem max may not exceed rmem_max
		{`sysctl net.ipv4.tcp_rmem = "4096 131072 16777216"`, "sys/net/ipv4/tcp_rmem", "4096 131072 4194304", "limited by net.core.rmem_max = 4194304", Applied},
		// coupled the other way: rmem_max stays ≥ tcp_rmem max
		{"sysctl net.core.rmem_max = 212992", "sys/net/core/rmem_max", "4194304", "", Unchanged},
		{"sysctl vm.dirty_background_ratio = 30", "sys/vm/dirty_background_ratio", "15", "limited by vm.dirty_ratio", Applied},
		{"readahead fake0 *= 4", "block/fake0/queue/read_ahead_kb", "512", "", Applied},
	}
	for _, c := range cases {
		r := one(t, s, c.act)
		if r.Status != c.st || !strings.Contains(r.Clamped, c.clamped) || read(t, filepath.Join(root, c.file)) != c.want {
			t.Errorf("%s: %s clamped=%q err=%q file=%q, want %s %q", c.act, r.Status, r.Clamped, r.Err, read(t, filepath.Join(root, c.file)), c.st, c.want)
		}
	}
	if r := one(t, s, "readahead nodev = 5"); r.Status != Unsupported || !strings.Contains(r.Err, "block device nodev") {
		t.Errorf("missing device: %+v", r)
	}
	if r := one(t, s, "cpufreq governor = powersave"); r.Status != Unsupported || !strings.Contains(r.Err, "cpufreq: no ") {
		t.Errorf("cpufreq: %+v", r)
	}
	if r := one(t, s, "kernel recommend x = 1"); r.Status != Unsupported || !strings.Contains(r.Err, "kernel module not loaded") {
		t.Errorf("kernel: %+v", r)
	}
	// everything goes back on Close, in the real file
	s.Close()
	for p, want := range map[string]string{"sys/vm/swappiness": "60", "sys/net/core/somaxconn": "4096",
		"sys/net/ipv4/tcp_rmem": "4096 131072 6291456", "block/fake0/queue/read_ahead_kb": "128", "sys/vm/dirty_background_ratio": "10"} {
		if got := read(t, filepath.Join(root, p)); got != want {
			t.Errorf("after Close %s = %q, want %q", p, got, want)
		}
	}
	if st, _ := os.Stat(cfg.JournalPath); st.Size() != 0 {
		t.Errorf("journal not empty after a full restore")
	}
}

func TestDryRun(t *testing.T) {
	root, cfg := fakeSys(t)
	cfg.DryRun = true
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := one(t, s, "sysctl vm.swappiness -= 10")
	if r.Status != DryRun || r.Old != "60" || r.New != "50" || r.Knob != "sysctl:vm.swappiness" {
		t.Errorf("dry run result %+v", r)
	}
	if got := read(t, filepath.Join(root, "sys/vm/swappiness")); got != "60" {
		t.Errorf("dry run changed the knob to %s", got)
	}
	if _, err := os.Stat(cfg.JournalPath); err == nil {
		t.Error("dry run wrote a journal")
	}
	if b := string(r.AppendJSON(nil)); b != `{"time_ns":1,"kind":"apply","status":"dry_run","policy":"test","action":"sysctl vm.swappiness -= 10","knob":"sysctl:vm.swappiness","target":"`+filepath.Join(root, "sys/vm/swappiness")+`","old":"60","new":"50","why":"cpu > 1"}` {
		t.Errorf("json %s", b)
	}
}

func TestYield(t *testing.T) {
	root, cfg := fakeSys(t)
	cfg.AuditInterval = -1 // the write path's own check, not the periodic audit
	s, _ := New(cfg)
	p := filepath.Join(root, "sys/vm/swappiness")
	one(t, s, "sysctl vm.swappiness = 40")
	os.WriteFile(p, []byte("77\n"), 0o644) // the administrator
	r := one(t, s, "sysctl vm.swappiness -= 5")
	if r.Status != Yielded || read(t, p) != "77" {
		t.Errorf("did not yield: %+v, file %s", r, read(t, p))
	}
	// yielded for good: later decisions leave it alone
	if r := one(t, s, "sysctl vm.swappiness = 70"); r.Status != Yielded || read(t, p) != "77" || !strings.Contains(r.Err, "until reset") {
		t.Errorf("yielded knob touched again: %+v, file %s", r, read(t, p))
	}
	// after a reset AINKA may change it again; the periodic audit yields too
	s.Reset()
	if r := one(t, s, "sysctl vm.swappiness = 70"); r.Status != Applied {
		t.Errorf("after reset: %+v", r)
	}
	os.WriteFile(p, []byte("1\n"), 0o644)
	if out := s.Audit(); len(out) != 1 || out[0].Status != Yielded {
		t.Errorf("audit: %+v", out)
	}
	s.Close()
	if read(t, p) != "1" {
		t.Errorf("rollback overwrote the administrator's value: %s", read(t, p))
	}
}

func TestRateLimit(t *testing.T) {
	_, cfg := fakeSys(t)
	cfg.KnobInterval = time.Hour
	s, _ := New(cfg)
	defer s.Close()
	if r := one(t, s, "sysctl vm.swappiness -= 1"); r.Status != Applied {
		t.Fatal(r)
	}
	if r := one(t, s, "sysctl vm.swappiness -= 1"); r.Status != RateLimited {
		t.Errorf("second write within the knob interval: %s", r.Status)
	}
	_, cfg = fakeSys(t)
	cfg.MaxWritesPerS = 2
	s2, _ := New(cfg)
	defer s2.Close()
	var st []string
	for _, a := range []string{"sysctl vm.swappiness -= 1", "sysctl net.core.somaxconn -= 1", "readahead fake0 -= 1"} {
		st = append(st, one(t, s2, a).Status.String())
	}
	if strings.Join(st, ",") != "applied,applied,rate_limited" {
		t.Errorf("global limit: %v", st)
	}
}

func TestRevertAndCommands(t *testing.T) {
	root, cfg := fakeSys(t)
	s, _ := New(cfg)
	one(t, s, "sysctl vm.swappiness = 50")
	one(t, s, `sysctl net.ipv4.tcp_rmem = "4096 87380 1000000"`)
	cmds := s.RollbackCommands()
	want := []string{"sysctl -w net.ipv4.tcp_rmem='4096 131072 6291456'", "sysctl -w vm.swappiness=60"}
	if strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant\n%s", strings.Join(cmds, "\n"), strings.Join(want, "\n"))
	}
	if ch := s.Changes(); len(ch) != 2 || ch[1].Original != "60" || ch[1].Value != "50" || ch[1].Policy != "test" {
		t.Errorf("changes %+v", ch)
	}
	d := dec(t, "sysctl vm.swappiness = 50")
	d.Kind = decide.Revert
	out := s.Process([]decide.Decision{d}, nil)
	if len(out) != 1 || out[0].Status != Restored || read(t, filepath.Join(root, "sys/vm/swappiness")) != "60" {
		t.Errorf("revert: %+v", out)
	}
	s.Reset()
	if read(t, filepath.Join(root, "sys/net/ipv4/tcp_rmem")) != "4096 131072 6291456" || len(s.Changes()) != 0 {
		t.Error("reset did not restore")
	}
	s.Close()
}

func TestRecoveryFromJournal(t *testing.T) {
	root, cfg := fakeSys(t)
	s, _ := New(cfg)
	one(t, s, "sysctl vm.swappiness = 50")
	one(t, s, "readahead fake0 = 1024")
	// simulate a crash: drop the stage without Close
	s.j.Close()
	s2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if read(t, filepath.Join(root, "sys/vm/swappiness")) != "60" || read(t, filepath.Join(root, "block/fake0/queue/read_ahead_kb")) != "128" {
		t.Error("not restored at start")
	}
	s2.Close()
}

// The kernel path of the stage (recommendations, the state mirror, the
// removal on exit) against the fake here, and against ainka_core itself
// in the VM (scripts/vm/packages.txt runs TestKernelActions there).
func TestKernelActions(t *testing.T) {
	t.Run("fake", func(t *testing.T) { kernelActions(t, genl.NewFake()) })
	t.Run("module", func(t *testing.T) {
		c, err := genl.Dial()
		if err != nil {
			testenv.SkipUnlessVM(t, "ainka_core: %v", err)
		}
		defer c.Close()
		// The module's state outlives the test: leave it as found.
		st, err := c.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.SetState(context.Background(), st.State)
		kernelActions(t, c)
	})
}

func kernelActions(t *testing.T, f genl.Client) {
	_, cfg := fakeSys(t)
	cfg.Kernel = f
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := one(t, s, "kernel recommend sched_weight = 20"); r.Status != Applied || r.Old != absent || r.New != "20" {
		t.Errorf("%+v", r)
	}
	if r := one(t, s, "kernel recommend sched_weight = 30"); r.Status != Applied || r.Old != "20" {
		t.Errorf("%+v", r)
	}
	out := s.Process([]decide.Decision{{TimeNs: 5, Kind: decide.StateChange, State: decide.Emergency}}, nil)
	st, _ := f.Status(t.Context())
	if out[0].Status != Mirrored || st.State != genl.StateEmergency {
		t.Errorf("state mirror: %+v, module state %v", out[0], st.State)
	}
	s.Close()
	if _, err := f.Recommendation(t.Context(), "sched_weight"); !errors.Is(err, genl.ErrNotFound) {
		t.Errorf("recommendation not removed on exit: %v", err)
	}
}

func TestBadConfig(t *testing.T) {
	if _, err := New(Config{Logger: quiet}); err == nil || !strings.Contains(err.Error(), "journal path is required") {
		t.Errorf("err = %v", err)
	}
}

func TestCapabilities(t *testing.T) {
	_, cfg := fakeSys(t)
	cfg.Cgroup1CPU = "-"
	s, _ := New(cfg)
	defer s.Close()
	got := map[string]Capability{}
	for _, c := range s.Capabilities() {
		got[c.Kind] = c
	}
	if c := got["cpufreq"]; c.Available || !strings.Contains(c.Detail, "unsupported on this host") {
		t.Errorf("cpufreq: %+v", c)
	}
	if c := got["kernel"]; c.Available || !strings.Contains(c.Detail, "not loaded") {
		t.Errorf("kernel: %+v", c)
	}
	if c := got["readahead"]; !strings.Contains(c.Detail, "fake0") {
		t.Errorf("readahead: %+v", c)
	}
	if c := got["cgroup"]; !strings.Contains(c.Detail, "cgroup v2 at") {
		t.Errorf("cgroup: %+v", c)
	}
	if len(got) != 8 {
		t.Errorf("%d kinds", len(got))
	}
}
