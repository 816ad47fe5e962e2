package actuate

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ainka/ainka/stages/decide/action"
)

// procInfo is what a selector needs of one process.
type procInfo struct {
	pid    int
	comm   string
	nice   int
	policy int     // sched(7) policy number (field 41); 0 when the kernel omits it
	start  uint64  // starttime in clock ticks since boot: with pid, a unique identity
	ticks  float64 // utime + stime
	cpu    float64 // ranking: CPU share
	kthr   bool
}

const pfKthread = 0x00200000

// readStat parses /proc/PID/stat.
func readStat(proc string, pid int) (procInfo, error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return procInfo{}, err
	}
	s := string(b)
	l, r := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if l < 0 || r < l {
		return procInfo{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[r+1:])
	// f[0] is field 3 (state); field N is f[N-3]
	if len(f) < 20 {
		return procInfo{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	flags, _ := strconv.ParseUint(f[9-3], 10, 64)
	utime, _ := strconv.ParseUint(f[14-3], 10, 64)
	stime, _ := strconv.ParseUint(f[15-3], 10, 64)
	nice, _ := strconv.Atoi(f[19-3])
	start, _ := strconv.ParseUint(f[22-3], 10, 64)
	policy := 0
	if len(f) > 41-3 {
		policy, _ = strconv.Atoi(f[41-3])
	}
	return procInfo{pid: pid, comm: s[l+1 : r], nice: nice, policy: policy, start: start, ticks: float64(utime + stime), cpu: float64(utime + stime), kthr: flags&pfKthread != 0}, nil
}

// uptimeTicks is the time since boot in clock ticks (USER_HZ = 100).
func uptimeTicks(proc string) float64 {
	b, err := os.ReadFile(filepath.Join(proc, "uptime"))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v * 100
}

// topCPUSample is the pause between the two samples of top-cpu.
var topCPUSample = 100 * time.Millisecond

// selectProcs returns the processes a selector chooses. Never pid 1,
// kernel threads, or AINKA itself.
func selectProcs(proc, cgroupRoot string, sel action.Selector) ([]procInfo, error) {
	pids, err := selectorPids(proc, cgroupRoot, sel)
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	up := uptimeTicks(proc)
	var out []procInfo
	for _, pid := range pids {
		if pid <= 1 || pid == self {
			continue
		}
		pi, err := readStat(proc, pid)
		if err != nil || pi.kthr {
			continue // exited, or a kernel thread
		}
		if sel.Kind == "name" && pi.comm != sel.Arg {
			continue
		}
		if age := up - float64(pi.start); age > 0 {
			pi.cpu /= age // average CPU share over the process's life
		}
		out = append(out, pi)
	}
	if sel.Kind == "top-cpu" && len(out) > 1 {
		// Recent use, not lifetime average: sample again after a short
		// pause and rank by the CPU time used in between.
		before := map[int]procInfo{}
		for _, p := range out {
			before[p.pid] = p
		}
		time.Sleep(topCPUSample)
		out = out[:0]
		for pid, b := range before {
			pi, err := readStat(proc, pid)
			if err != nil || pi.start != b.start {
				continue
			}
			pi.cpu = pi.ticks - b.ticks
			out = append(out, pi)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].cpu > out[j].cpu })
		if len(out) > 1 {
			out = out[:1]
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].pid < out[j].pid })
	return out, nil
}

// selectorPids lists the candidate pids of a selector: a cgroup's
// processes, one pid, or every process (filtered by the caller).
func selectorPids(proc, cgroupRoot string, sel action.Selector) ([]int, error) {
	var pids []int
	switch sel.Kind {
	case "cgroup":
		if cgroupRoot == "" {
			return nil, ErrNoCgroup2
		}
		p, err := cgroupFile(cgroupRoot, sel.Arg, "cgroup.procs")
		if err != nil {
			return nil, err
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if n, err := strconv.Atoi(strings.TrimSpace(sc.Text())); err == nil {
				pids = append(pids, n)
			}
		}
		f.Close()
	case "pid":
		for _, id := range strings.Split(sel.Arg, ",") {
			n, err := strconv.Atoi(id)
			if err != nil {
				return nil, fmt.Errorf("process selector pid:%s: %w", sel.Arg, err)
			}
			pids = append(pids, n)
		}
	default:
		ents, err := os.ReadDir(proc)
		if err != nil {
			return nil, fmt.Errorf("list processes: %w", err)
		}
		for _, e := range ents {
			if n, err := strconv.Atoi(e.Name()); err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids, nil
}

// tasks lists the thread ids of pid: nice is per thread on Linux.
func tasks(proc string, pid int) []int {
	ents, err := os.ReadDir(filepath.Join(proc, strconv.Itoa(pid), "task"))
	if err != nil {
		return []int{pid}
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	return out
}
