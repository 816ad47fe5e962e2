package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cpuDMALatency reads the current PM QoS CPU latency target: reading
// /dev/cpu_dma_latency returns it as a 32-bit integer. tuned's
// latency-performance holds a request open while it runs.
func cpuDMALatency() (string, error) {
	f, err := os.Open("/dev/cpu_dma_latency")
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b [4]byte
	if _, err := f.Read(b[:]); err != nil {
		return "", err
	}
	return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[:])), 10), nil
}

// statFields parses /proc/PID/stat into comm and the fields after it
// (fields[0] is the state, field 3 of the man page).
func statFields(pid int) (string, []string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", nil, err
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return "", nil, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	return s[open+1 : closing], strings.Fields(s[closing+1:]), nil
}

// pids lists the processes now.
func pids() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// readPriorities reads nice and scheduling policy of every process,
// keyed by pid and start time (a recycled pid is another process).
func readPriorities() (map[procKey]procPri, error) {
	out := map[procKey]procPri{}
	for _, pid := range pids() {
		comm, f, err := statFields(pid)
		if err != nil || len(f) < 39 {
			continue // exited meanwhile
		}
		start, _ := strconv.ParseUint(f[19], 10, 64)
		nice, _ := strconv.Atoi(f[16])
		policy, _ := strconv.Atoi(f[38])
		out[procKey{pid, start}] = procPri{comm: comm, nice: nice, policy: policy}
	}
	return out, nil
}

// setPriority puts back nice and policy of every thread of pid.
func setPriority(pid int, p procPri) error {
	tids, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tids {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if p.policy == schedOther || p.policy == schedBatch || p.policy == schedIdle {
			attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: uint32(p.policy), Nice: int32(p.nice)}
			if err := unix.SchedSetAttr(tid, &attr, 0); err != nil {
				return fmt.Errorf("restore pid %d (%s) nice %d policy %d: %w", pid, p.comm, p.nice, p.policy, err)
			}
			continue
		}
		if err := unix.Setpriority(unix.PRIO_PROCESS, tid, p.nice); err != nil {
			return fmt.Errorf("restore pid %d (%s) nice %d: %w", pid, p.comm, p.nice, err)
		}
	}
	return nil
}

// defaultPriority puts the suite itself, and so every workload, daemon
// and tuned it starts, at nice 0, the host's default, whatever the
// caller's nice: under `nice -n 10 make test` they would all inherit 10
// and the latency scenarios would measure the machine's other tenants
// (the suite's cyclictest losing to every compiler at nice 0), not the
// arms. It returns the caller's nice, for the report.
func defaultPriority() (int, error) {
	pid := os.Getpid()
	_, f, err := statFields(pid)
	if err != nil {
		return 0, fmt.Errorf("read the suite's own priority: %w", err)
	}
	if len(f) < 39 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields, want 39", pid, len(f))
	}
	nice, _ := strconv.Atoi(f[16])
	policy, _ := strconv.Atoi(f[38])
	if nice == 0 {
		return 0, nil
	}
	if err := setPriority(pid, procPri{comm: "ainka-bench", policy: policy}); err != nil {
		return nice, fmt.Errorf("run at nice 0 (started at %d): %w", nice, err)
	}
	return nice, nil
}

// removeLeftover deletes a resource a scenario created and left behind.
func removeLeftover(p string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var err error
	switch {
	case strings.HasPrefix(p, "/run/netns/"):
		_, err = run(ctx, "ip", "netns", "del", filepath.Base(p))
	case strings.HasPrefix(p, "/sys/class/net/"):
		_, err = run(ctx, "ip", "link", "del", filepath.Base(p))
	case strings.HasPrefix(p, "/sys/fs/cgroup/"):
		err = removeCgroupTree(p)
	default:
		err = fmt.Errorf("no way to remove %s", p)
	}
	if err != nil {
		return fmt.Errorf("remove leftover %s: %w", p, err)
	}
	return nil
}

// removeCgroupTree moves the tasks of a v1 cgroup tree to the root of its
// hierarchy and removes its directories, deepest first.
func removeCgroupTree(dir string) error {
	root := filepath.Dir(dir)
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		b, _ := os.ReadFile(filepath.Join(dirs[i], "cgroup.procs"))
		for _, pid := range strings.Fields(string(b)) {
			_ = writeFile(filepath.Join(root, "cgroup.procs"), pid)
		}
		if err := os.Remove(dirs[i]); err != nil {
			return err
		}
	}
	return nil
}

// restoreSwaps turns off every swap area that was not in the baseline
// /proc/swaps, and resets zram0 when it was one of them.
func restoreSwaps(baseline string) error {
	now, err := os.ReadFile("/proc/swaps")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(now), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 0 || strings.Contains(baseline, f[0]+" ") {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		_, err := run(ctx, "swapoff", f[0])
		cancel()
		if err != nil {
			return fmt.Errorf("swapoff %s: %w", f[0], err)
		}
		if f[0] == "/dev/zram0" {
			_ = writeFile("/sys/block/zram0/reset", "1")
		}
	}
	return nil
}

// Linux scheduling policies (sched.h) that a process can be put back to
// without real-time privileges being involved.
const (
	schedOther = 0
	schedBatch = 3
	schedIdle  = 5
)
