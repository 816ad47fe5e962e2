package tune

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// findComm returns the pid of a process named comm in /proc, or 0.
func findComm(t *testing.T, comm string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm")); err == nil && strings.TrimSpace(string(b)) == comm {
			return pid
		}
	}
	return 0
}

// startChild starts sh -c script, killed at the test's end, and returns
// its pid once it has printed a first word, and that word.
func startChild(t *testing.T, script string) (int, string) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var first string
	if _, err := fmt.Fscan(out, &first); err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return cmd.Process.Pid, first
}

// TaskOrigin on this host's real /proc: kthreadd and khugepaged are
// kernel threads, the test process and its child and grandchild are its
// own, init is a user's.
func TestTaskOriginRealProc(t *testing.T) {
	self := os.Getpid()
	child, first := startChild(t, "sleep 30 & echo $!; wait")
	grandchild, err := strconv.Atoi(first)
	if err != nil {
		t.Fatalf("the grandchild's pid: %v", err)
	}
	cases := []struct {
		name string
		pid  int
		want Origin
	}{
		{"kthreadd", 2, KernelTask},
		{"init", 1, UserTask},
		{"the test itself", self, OwnTask},
		{"its child sh", child, OwnTask},
		{"its grandchild sleep", grandchild, OwnTask},
	}
	if p := findComm(t, "khugepaged"); p > 0 {
		cases = append(cases, struct {
			name string
			pid  int
			want Origin
		}{"khugepaged", p, KernelTask})
	} else {
		t.Log("no khugepaged on this host (THP off?): kthreadd only")
	}
	for _, c := range cases {
		got, err := TaskOrigin("/proc", c.pid, self)
		if err != nil || got != c.want {
			t.Errorf("%s (pid %d): %v, %v; want %v", c.name, c.pid, got, err, c.want)
		}
	}
	// The same tasks seen from another process (self = a pid that is not
	// their ancestor): the test's own are a user's.
	if got, err := TaskOrigin("/proc", grandchild, 1<<30); err != nil || got != UserTask {
		t.Errorf("grandchild from outside: %v, %v; want user", got, err)
	}
	tun := ProcTunable("/proc", self)
	if tun(2) || tun(uint32(grandchild)) || !tun(1) {
		t.Errorf("ProcTunable: kthreadd %v, grandchild %v, init %v; want false, false, true", tun(2), tun(uint32(grandchild)), tun(1))
	}
	if _, err := TaskOrigin("/proc", 1<<30, self); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a pid that does not exist: %v, want ErrNotExist", err)
	}
	if tun(1 << 30) {
		t.Error("ProcTunable takes a pid that does not exist")
	}
}

// fakeProc writes /proc/PID/stat files: pid -> (command, parent, flags),
// or a raw line for a pid of raws.
func fakeProc(t *testing.T, tasks map[int][3]string, raws map[int]string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(pid int, line string) {
		p := filepath.Join(dir, strconv.Itoa(pid))
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "stat"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for pid, f := range tasks {
		// fields 3.. after the command: state ppid pgrp session tty tpgid flags ...
		write(pid, fmt.Sprintf("%d (%s) S %s %d %d 0 -1 %s 0 0 0 0 1 2 0 0 20 0 1 0 21\n", pid, f[0], f[1], pid, pid, f[2]))
	}
	for pid, line := range raws {
		write(pid, line)
	}
	return dir
}

// TaskOrigin at its boundaries: the PF_KTHREAD bit alone decides a
// kernel thread (one below it, or every other bit, do not), AINKA's own
// are found through the parent chain (bounded, even in a cycle), and a
// stat that cannot be parsed is an error naming the field.
func TestTaskOriginBoundaries(t *testing.T) {
	const self = 500
	tasks := map[int][3]string{
		2:   {"kthreadd", "0", strconv.Itoa(pfKthread | 0x40)},
		10:  {"kworker/0:1-events", "2", strconv.Itoa(pfKthread)},
		11:  {"user flags just below", "1", strconv.Itoa(pfKthread - 1)},
		12:  {"every other bit", "1", strconv.FormatUint(^uint64(pfKthread)&(1<<32-1), 10)},
		13:  {"helper of kthreadd", "2", "4194560"}, // a usermode helper: parent 2, no PF_KTHREAD
		500: {"ainka", "1", "4194560"},
		501: {"a child) (S 1", "500", "4194560"}, // a command with parentheses and spaces
		502: {"grandchild", "501", "4194560"},
		600: {"cycle a", "601", "0"},
		601: {"cycle b", "600", "0"},
		700: {"orphan", "999", "0"}, // its parent is gone
	}
	raws := map[int]string{
		800: "800 (short) S 1 2 3\n",
		801: "801 (bad flags) S 1 801 801 0 -1 x 0\n",
		802: "802 (bad parent) S p 802 802 0 -1 0 0\n",
		803: "803 no command S 1 803 803 0 -1 0 0\n",
	}
	proc := fakeProc(t, tasks, raws)
	for _, c := range []struct {
		pid  int
		want Origin
		err  string
	}{
		{2, KernelTask, ""},
		{10, KernelTask, ""},
		{11, UserTask, ""},
		{12, UserTask, ""},
		{13, UserTask, ""},
		{500, OwnTask, ""},
		{501, OwnTask, ""},
		{502, OwnTask, ""},
		{600, UserTask, ""},
		{700, UserTask, ""},
		{800, UserTask, "4 fields after the command"},
		{801, UserTask, `flags "x"`},
		{802, UserTask, `parent "p"`},
		{803, UserTask, "no command"},
		{900, UserTask, "read task 900"},
	} {
		got, err := TaskOrigin(proc, c.pid, self)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("pid %d: %v, %v; want %v", c.pid, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("pid %d: error %v, want one naming %q", c.pid, err, c.err)
		case c.err != "" && c.pid < 900 && !errors.Is(err, ErrProcStat):
			t.Errorf("pid %d: %v is not ErrProcStat", c.pid, err)
		}
	}
}

// The CPU tuner never takes a kernel thread, AINKA's own task or a task
// streaming from storage, however batch-like and busy: the biggest job
// here (three tasks at 0.9 CPU each) is refused by the hook; the trial is
// on stress-ng. The hook is asked once per task, not per window.
func TestCPUTunerSkipsUntunableTasks(t *testing.T) {
	for _, c := range []struct {
		comm string
		set  func(*Config, func(uint32) bool)
	}{
		{"khugepaged", func(c *Config, refuse func(uint32) bool) {
			c.Tunable = func(pid uint32) bool { return !refuse(pid) }
		}},
		{"fio", func(c *Config, refuse func(uint32) bool) { c.Streamer = refuse }},
	} {
		h := newCPUHost()
		h.jobs[c.comm], h.share[c.comm] = []uint32{30, 31, 32}, 0.9
		asked := map[uint32]int{}
		cfg := Config{CPU: Act, EffectWindow: time.Second, Nice: func(int) (int, error) { return 0, nil }}
		c.set(&cfg, func(pid uint32) bool { asked[pid]++; return pid >= 30 && pid <= 32 })
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		now := uint64(1e12)
		ds := runCPU(t, s, h, &now, 60)
		if strings.Contains(dump(ds), "pid:30,31,32") {
			t.Fatalf("%s: acted on the refused job:\n%s", c.comm, dump(ds))
		}
		if !strings.Contains(dump(ds), `"action":"sched pid:101,102,103,104 = idle"`) {
			t.Fatalf("%s: no trial on stress-ng beside the refused job:\n%s", c.comm, dump(ds))
		}
		for pid, n := range asked {
			if n != 1 {
				t.Errorf("%s: asked %d times about pid %d, want once", c.comm, n, pid)
			}
		}
	}
	// Without the hooks (a replay) the bigger job is the target: the
	// test's host does make it the choice to refuse.
	s := newCPUStage(t, "")
	h := newCPUHost()
	h.jobs["fio"], h.share["fio"] = []uint32{30, 31, 32}, 0.9
	now := uint64(1e12)
	if ds := runCPU(t, s, h, &now, 60); !strings.Contains(dump(ds), "pid:30,31,32") {
		t.Errorf("without the hooks the bigger job was not the target:\n%s", dump(ds))
	}
}

// diskReadRate at its boundaries: read_bytes over the task's age, the
// age at least a tick, and an error naming what is missing or bad.
func TestDiskReadRate(t *testing.T) {
	stat := func(start string) string {
		return "42 (fio) R 1 42 42 0 -1 4194304 0 0 0 0 10 5 0 0 20 0 1 0 " + start + " 0 0\n"
	}
	for _, c := range []struct {
		name, io, stat, up string
		want               float64
		err                string
	}{
		{"16 MiB/s for 2 s: the threshold", "rchar: 1\nread_bytes: 33554432\nwrite_bytes: 0\n", stat("1000"), "12.00 3.0", streamBps, ""},
		{"just below", "read_bytes: 33554431\n", stat("1000"), "12.00 3.0", float64(33554431) / 2, ""},
		{"started this instant", "read_bytes: 4096\n", stat("1200"), "12.00 3.0", 4096 * clkTck, ""},
		{"no read_bytes", "rchar: 5\n", stat("1000"), "12.00", 0, "no read_bytes"},
		{"bad read_bytes", "read_bytes: x\n", stat("1000"), "12.00", 0, `read_bytes "x"`},
		{"short stat", "read_bytes: 1\n", "42 (fio) R 1 42\n", "12.00", 0, "no start time"},
		{"bad start", "read_bytes: 1\n", stat("y"), "12.00", 0, `start time "y"`},
		{"empty uptime", "read_bytes: 1\n", stat("1000"), "", 0, "empty uptime"},
	} {
		got, err := diskReadRate(c.io, c.stat, c.up)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%s: %g, %v; want %g", c.name, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrProcStat)):
			t.Errorf("%s: error %v, want ErrProcStat naming %q", c.name, err, c.err)
		}
	}
}

// ProcStreamer on this host: a child that has read 64 MiB from the disk
// (O_DIRECT, so the page cache cannot serve it) within its first seconds
// streams; a sleeping child does not; a pid that does not exist is an
// error.
func TestProcStreamerRealProc(t *testing.T) {
	f := filepath.Join(t.TempDir(), "data")
	if out, err := exec.Command("dd", "if=/dev/urandom", "of="+f, "bs=1M", "count=64", "conv=fsync", "status=none").CombinedOutput(); err != nil {
		t.Fatalf("dd: %v: %s", err, out)
	}
	start := func(script string) int {
		pid, _ := startChild(t, script)
		return pid
	}
	reader := start("dd if=" + f + " of=/dev/null bs=1M iflag=direct status=none; echo ready; exec sleep 30")
	sleeper := start("echo ready; exec sleep 30")
	streams := ProcStreamer("/proc")
	r, err := DiskReadRate("/proc", reader)
	if err != nil || !streams(uint32(reader)) {
		t.Errorf("reader of 64 MiB: %.1f MiB/s, %v; want a streamer (≥ %d MiB/s)", r/(1<<20), err, streamBps>>20)
	}
	if r, err := DiskReadRate("/proc", sleeper); err != nil || streams(uint32(sleeper)) {
		t.Errorf("sleeper: %.1f MiB/s, %v; want no streamer", r/(1<<20), err)
	}
	if _, err := DiskReadRate("/proc", 1<<30); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a pid that does not exist: %v, want ErrNotExist", err)
	}
}
