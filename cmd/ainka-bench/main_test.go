package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"

	"github.com/ainka/ainka/bench"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--scenario", "nosuch"}, exitUsage, `unknown scenario "nosuch" (known: cpu-contention, memory-pressure, readahead, tcp-lossy, tcp-lossy-cubic, writeback)`},
		{[]string{"--arm", "untuned,autotune"}, exitUsage, `unknown arm "autotune" (known: untuned, tuned, ainka, ainka+policies, oracle)`},
		{[]string{"--scenario", "cpu-contention", "--oracle", "idle,chill"}, exitUsage, `unknown oracle value "chill" for cpu-contention (its hog scheduling: nice0, nice10, nice19, batch, idle)`},
		{[]string{"--duration", "2m"}, exitUsage, "--duration 2m0s: must be in 0..60s"},
		{[]string{"--repeats", "0"}, exitUsage, "repeats must be at least 1"},
		{[]string{"extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"--replot", "/nonexistent/results.json"}, exitUsage, "--replot: open /nonexistent/results.json: no such file or directory"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

func TestMissingToolNamesPackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // nothing installed
	code, _, stderr := runCLI(t, "--scenario", "cpu-contention,tcp-lossy", "--arm", "untuned,tuned", "--out", t.TempDir())
	if code != exitEnvironment {
		t.Fatalf("exit %d, want %d (stderr %q)", code, exitEnvironment, stderr)
	}
	for _, want := range []string{"cyclictest", "iperf3", "tuned", "apt-get install", "rt-tests", "iproute2", "stress-ng"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not name %q", stderr, want)
		}
	}
}

func TestList(t *testing.T) {
	code, out, _ := runCLI(t, "--list")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, s := range bench.Scenarios() {
		if !strings.Contains(out, s.Name) || !strings.Contains(out, s.TunedProfile) {
			t.Errorf("--list does not show %s with its tuned profile", s.Name)
		}
	}
}

// TestInterruptRestoresHost runs the tcp-lossy scenario for real and
// sends SIGINT while iperf3 runs: the suite must tear the namespaces
// down, leave the host as it was, keep the partial results and exit 130.
// Live (root, iperf3): run it under the shared lock.
func TestInterruptRestoresHost(t *testing.T) {
	testenv.RequireRoot(t, "creates network namespaces, veth, tc and iptables rules")
	for _, tool := range []string{"iperf3", "iptables", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	before, err := bench.TakeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "ainka-bench")
	if out, err := exec.Command("go", "build", "-buildvcs=false", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out := t.TempDir()
	cmd := exec.Command(bin, "--scenario", "tcp-lossy", "--arm", "untuned", "--repeats", "2", "--duration", "20s",
		"--out", out, "--json", filepath.Join(out, "copy.json"), "--no-plots", "--work-dir", t.TempDir())
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat("/run/netns/ainka-bench-srv"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // iperf3 is sending
	_ = cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want %d\n%s", err, exitInterrupted, stderr.String())
	}
	for _, p := range []string{"/run/netns/ainka-bench-srv", "/sys/class/net/abv0"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
	after, err := bench.TakeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if d := before.Diff(after); len(d) > 0 {
		t.Errorf("host changed: %v", d)
	}
	for _, f := range []string{"results.json", "copy.json"} {
		var rep bench.Report
		b, err := os.ReadFile(filepath.Join(out, f))
		if err == nil {
			err = json.Unmarshal(b, &rep)
		}
		if err != nil || !rep.Interrupted || len(rep.Runs) != 1 || rep.Runs[0].Error != "interrupted" {
			t.Errorf("%s: %v; interrupted %v, runs %d\n%s", f, err, rep.Interrupted, len(rep.Runs), stderr.String())
		}
	}
}

// The ainka arms' daemons take absolute paths only: a relative --out (as
// make bench-quick passes) must reach them absolute.
func TestPathsMadeAbsolute(t *testing.T) {
	f, err := parse([]string{"--out", "bin/bench-quick", "--policies", "policies/default.toml"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{f.out, f.policies, f.workDir} {
		if !filepath.IsAbs(p) {
			t.Errorf("%q is not absolute", p)
		}
	}
}
