package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
	"github.com/ainka/ainka/internal/testenv"
)

// hostileRun is the real ainka binary acting on the readahead of a loop
// device the test attaches: nothing of the host's own settings changes.
type hostileRun struct {
	bin, dir, dev, ra, orig string
}

func newHostileRun(t *testing.T) *hostileRun {
	testenv.RequireRoot(t, "load eBPF programs and change a loop device's readahead")
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("needs kernel BTF")
	}
	h := &hostileRun{bin: controltest.Build(t, "github.com/ainka/ainka/cmd/ainka", "ainka"), dir: t.TempDir(), dev: testenv.LoopDevice(t)}
	h.ra = "/sys/block/" + h.dev + "/queue/read_ahead_kb"
	h.orig = readFile(t, h.ra)
	pol := filepath.Join(h.dir, "policies.toml")
	os.WriteFile(pol, []byte(fmt.Sprintf("[[policy]]\nname = \"hostile\"\ncondition = \"syscalls_per_s >= 0\"\naction = \"readahead %s = 1024\"\n", h.dev)), 0o644)
	return h
}

// config writes a configuration for instance name; instances share the
// work_dir (that is the point) and have their own socket and pid file.
func (h *hostileRun) config(t *testing.T, name string, dryRun bool) (cfg, sock, pid string) {
	sock, pid = filepath.Join(h.dir, name+".sock"), filepath.Join(h.dir, name+".pid")
	cfg = filepath.Join(h.dir, name+".toml")
	body := fmt.Sprintf("[daemon]\npid_file = %q\nwork_dir = %q\nsocket_path = %q\ndry_run = %v\n[ml]\nmodel_path = \"\"\n"+
		"[policy]\npolicy_file = %q\n[telemetry]\nevent_kinds = [\"syscall\", \"sched_switch\"]\n[tuners]\ncpu = \"off\"\nreadahead = \"off\"\n",
		pid, filepath.Join(h.dir, "work"), sock, dryRun, filepath.Join(h.dir, "policies.toml"))
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, sock, pid
}

// waitFor polls cond every 50 ms for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func serving(sock string) bool {
	_, err := control.NewClient(sock).Status(context.Background())
	return err == nil
}

// TestHostileLifecycle: a daemon acting on a knob survives its tap's
// reader going away (SIGPIPE) and a SIGHUP; a second daemon on the same
// work_dir is refused before it restores anything; SIGTERM restores the
// knob and exits 0 (issue 16, defects 4 and 5).
func TestHostileLifecycle(t *testing.T) {
	h := newHostileRun(t)
	cfgA, sockA, pidA := h.config(t, "a", false)
	pr, pw, _ := os.Pipe()
	var errA bytes.Buffer
	a := exec.Command(h.bin, "run", "--config", cfgA, "--tap", "features")
	a.Stdout, a.Stderr = pw, &errA
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	done := make(chan error, 1)
	go func() { done <- a.Wait() }()
	defer a.Process.Kill()
	// `| head -1`: read one line, then the reader is gone
	line, err := bufio.NewReader(pr).ReadString('\n')
	pr.Close()
	if err != nil || !strings.HasPrefix(line, "{") {
		t.Fatalf("first tap line %q: %v\n%s", line, err, errA.String())
	}
	if !waitFor(20*time.Second, func() bool { return readFile(t, h.ra) == "1024" }) {
		t.Fatalf("the policy never changed %s (still %s)\n%s", h.ra, readFile(t, h.ra), errA.String())
	}
	// a second instance sharing work_dir: refused at once, nothing restored
	cfgB, _, _ := h.config(t, "b", false)
	out, err := exec.Command(h.bin, "run", "--config", cfgB).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "held by another ainka") {
		t.Errorf("second instance: %v %s", err, out)
	}
	if got := readFile(t, h.ra); got != "1024" {
		t.Errorf("the second instance restored the live one's knob: %s", got)
	}
	a.Process.Signal(syscall.SIGHUP)
	time.Sleep(time.Second)
	select {
	case err := <-done:
		t.Fatalf("daemon died (broken tap, SIGHUP): %v\n%s", err, errA.String())
	default:
	}
	st, err := control.NewClient(sockA).Status(context.Background())
	if err != nil || len(st.Knobs) != 1 {
		t.Errorf("status after the broken tap: %v %+v", err, st.Knobs)
	}
	a.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, errA.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit after SIGTERM\n%s", errA.String())
	}
	if got := readFile(t, h.ra); got != h.orig {
		t.Errorf("%s = %s after exit, want %s", h.ra, got, h.orig)
	}
	for _, p := range []string{pidA, sockA} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
	if !strings.Contains(errA.String(), "policies reloaded") {
		t.Errorf("SIGHUP did not reload the policies:\n%s", errA.String())
	}
	if !strings.Contains(errA.String(), "tap closed") {
		t.Errorf("the broken tap was not logged:\n%s", errA.String())
	}
}

// TestHostileEarlySIGHUP: SIGHUPs in the daemon's first milliseconds,
// before its reloader runs, do not kill it (issue 16: they did, exit 129
// with the pid file left behind).
func TestHostileEarlySIGHUP(t *testing.T) {
	h := newHostileRun(t)
	cfg, sock, pid := h.config(t, "early", true)
	var stderr bytes.Buffer
	c := exec.Command(h.bin, "run", "--config", cfg)
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	defer c.Process.Kill()
	// Go's runtime starts with SIGHUP fatal and no Go code can run before
	// it reaches the first package init (internal/earlysig): wait for that
	// (SigIgn's bit 0 in /proc/PID/status), then signal through the rest.
	begin := time.Now()
	if !waitForFast(2*time.Second, func() bool { return hupIgnored(c.Process.Pid) }) {
		t.Fatalf("SIGHUP never ignored by pid %d\n%s", c.Process.Pid, stderr.String())
	}
	t.Logf("SIGHUP ignored %v after exec", time.Since(begin).Round(100*time.Microsecond))
	start := time.Now()
	for _, at := range []time.Duration{0, 5, 15, 30, 60, 100} {
		time.Sleep(time.Until(start.Add(at * time.Millisecond)))
		c.Process.Signal(syscall.SIGHUP)
	}
	if !waitFor(20*time.Second, func() bool { return serving(sock) }) {
		select {
		case err := <-done:
			t.Fatalf("daemon died from an early SIGHUP: %v\n%s", err, stderr.String())
		default:
			t.Fatalf("daemon not serving\n%s", stderr.String())
		}
	}
	c.Process.Signal(syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Errorf("exit: %v\n%s", err, stderr.String())
	}
	if _, err := os.Stat(pid); err == nil {
		t.Errorf("pid file left behind")
	}
}

// hupIgnored reports whether pid ignores SIGHUP now.
func hupIgnored(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
			var mask uint64
			fmt.Sscanf(strings.TrimSpace(v), "%x", &mask)
			return mask&1 != 0
		}
	}
	return false
}

// waitForFast polls cond every 200 µs for up to d.
func waitForFast(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Microsecond) {
		if cond() {
			return true
		}
	}
	return false
}
