package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"

	"github.com/ainka/ainka/stages/actuate"
)

// TestClosedLoopLive closes the loop with the real daemon: CPU hogs in a
// cgroup the test creates make run-queue latency rise, the sched events
// show it, the shipped-style policy lowers the hogs' CPU weight, and at
// exit the daemon puts the original weight back. (The latency experiment
// with cyclictest, several runs and percentiles is
// stages/actuate/closedloop, AINKA_CLOSED_LOOP=1.)
func TestClosedLoopLive(t *testing.T) {
	testenv.RequireRoot(t, "eBPF and cgroups")
	if _, err := exec.LookPath("stress-ng"); err != nil {
		t.Skip("needs stress-ng (apt-get install stress-ng)")
	}
	testenv.LoadsCPU(t)
	v2, err := actuate.FindCgroup2("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no cgroup2: %v", err)
	}
	// Where cpu.weight really lives: v2 when its cpu controller is there,
	// else (hybrid hosts like this one) v1 cpu.shares of the same path.
	weightFile, cpuRoot := "cpu.weight", v2
	if !strings.Contains(" "+readFile(t, filepath.Join(v2, "cgroup.controllers"))+" ", " cpu ") {
		cpuRoot = actuate.FindCgroup1CPU("/proc/self/mountinfo")
		weightFile = "cpu.shares"
		if cpuRoot == "" {
			t.Skip("no cpu controller in cgroup v2 or v1")
		}
	}
	rel := fmt.Sprintf("ainka-e2e-%d/hogs", os.Getpid())
	for _, root := range uniq(v2, cpuRoot) {
		if err := os.MkdirAll(filepath.Join(root, rel), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			os.Remove(filepath.Join(root, rel))
			os.Remove(filepath.Join(root, filepath.Dir(rel)))
		})
	}
	if cpuRoot == v2 {
		for _, d := range []string{"", filepath.Dir(rel)} {
			os.WriteFile(filepath.Join(v2, d, "cgroup.subtree_control"), []byte("+cpu"), 0)
		}
	}
	weightPath := filepath.Join(cpuRoot, rel, weightFile)
	before := readFile(t, weightPath)

	// Two hogs per CPU in the cgroup: every runnable task waits.
	hog := exec.Command("stress-ng", "--cpu", "4", "--timeout", "30s", "--quiet")
	if err := hog.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { hog.Process.Kill(); hog.Wait() }()
	for _, root := range uniq(v2, cpuRoot) {
		// stress-ng's workers are its children: move the whole group.
		time.Sleep(300 * time.Millisecond)
		for _, pid := range append([]int{hog.Process.Pid}, children(hog.Process.Pid)...) {
			os.WriteFile(filepath.Join(root, rel, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
		}
	}

	dir := t.TempDir()
	pol := filepath.Join(dir, "policies.toml")
	os.WriteFile(pol, []byte(fmt.Sprintf(`[[policy]]
name = "hogs-weight"
condition = "runq_latency_p99_us > 1000 for 1s"
action = "cgroup %s cpu.weight = 10"
objective = "minimize runq_latency_p99_us"
priority = 80
enabled = true
`, rel)), 0o644)
	cfg := writeConfig(t, fmt.Sprintf(`[daemon]
pid_file = ""
work_dir = %q
socket_path = %q
[ml]
model_path = ""
[policy]
policy_file = %q
[telemetry]
event_kinds = ["sched_switch", "sched_wakeup"]
`, filepath.Join(dir, "state"), filepath.Join(dir, "s.sock"), pol))

	var lowered string
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() { done <- dispatch([]string{"run", "--config", cfg, "--duration", "8s"}, &out, &errb) }()
	deadline := time.After(12 * time.Second)
wait:
	for {
		select {
		case code := <-done:
			done <- code
			break wait
		case <-deadline:
			break wait
		case <-time.After(100 * time.Millisecond):
			if v := readFile(t, weightPath); v != before {
				lowered = v
			}
		}
	}
	code := <-done
	if code != exitOK {
		t.Fatalf("daemon exit %d: %s", code, errb.String())
	}
	if lowered == "" {
		t.Fatalf("the hogs' %s stayed %s: the policy never acted\n%s", weightFile, before, errb.String())
	}
	if after := readFile(t, weightPath); after != before {
		t.Errorf("%s is %s after the daemon exited, want the original %s restored", weightPath, after, before)
	}
	if !strings.Contains(errb.String(), "hogs-weight") {
		t.Errorf("the change was not logged with its policy:\n%s", errb.String())
	}
	t.Logf("%s: %s -> %s -> %s (restored at exit)", weightFile, before, lowered, readFile(t, weightPath))
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// children lists the pids whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut after ')'.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}
