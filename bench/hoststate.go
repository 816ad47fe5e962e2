package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrHostChanged is returned when the host cannot be brought back to the
// state it had before the suite started: the suite stops rather than
// measure the next arm on a changed host.
var ErrHostChanged = errors.New("host state cannot be restored")

// snapshotSysctls are the sysctls any scenario or arm may change: tuned's
// profiles (vm.dirty_*, swappiness, somaxconn, tcp_rmem/wmem), AINKA's
// allowlist (writeback, swappiness, socket buffers, congestion control)
// and the oracles' knobs.
var snapshotSysctls = []string{
	"vm/dirty_background_ratio", "vm/dirty_ratio", "vm/dirty_background_bytes", "vm/dirty_bytes",
	"vm/dirty_expire_centisecs", "vm/dirty_writeback_centisecs",
	"vm/swappiness", "vm/watermark_scale_factor", "vm/min_free_kbytes", "vm/vfs_cache_pressure",
	"vm/page-cluster", "vm/overcommit_memory",
	"net/core/somaxconn", "net/core/rmem_max", "net/core/wmem_max", "net/core/rmem_default",
	"net/core/wmem_default", "net/core/netdev_max_backlog", "net/core/busy_read", "net/core/busy_poll",
	"net/ipv4/tcp_congestion_control", "net/ipv4/tcp_rmem", "net/ipv4/tcp_wmem", "net/ipv4/tcp_mem",
	"net/ipv4/ip_local_port_range", "net/ipv4/tcp_fastopen",
	"kernel/sched_autogroup_enabled", "kernel/numa_balancing", "kernel/sched_rt_runtime_us",
	"kernel/timer_migration",
}

// snapshotFiles are sysfs/etc files outside /proc/sys: THP (tuned's vm
// plugin), tuned's own state files.
var snapshotFiles = []string{
	"/sys/kernel/mm/transparent_hugepage/enabled", "/sys/kernel/mm/transparent_hugepage/defrag",
	"/sys/block/zram0/disksize", "/proc/swaps",
	"/etc/tuned/active_profile", "/etc/tuned/profile_mode",
}

// Snapshot is the host state the suite keeps constant between runs.
type Snapshot struct {
	Files map[string]string   // path -> content
	Procs map[procKey]procPri // long-lived processes' priorities
	Names map[string]bool     // things that must not appear: netns, links, cgroups (name -> present)
}

type procKey struct {
	pid   int
	start uint64
}

type procPri struct {
	comm   string
	nice   int
	policy int
}

// benchNames are the resources the scenarios create; each must be gone
// after a run.
var benchNames = []string{
	"/run/netns/ainka-bench-srv", "/sys/class/net/abv0",
	"/sys/fs/cgroup/memory/ainka-bench", "/sys/fs/cgroup/cpu/ainka-bench",
}

// TakeSnapshot reads the host state.
func TakeSnapshot() (*Snapshot, error) {
	s := &Snapshot{Files: map[string]string{}, Names: map[string]bool{}}
	for _, k := range snapshotSysctls {
		p := filepath.Join("/proc/sys", k)
		if v, err := readTrim(p); err == nil {
			s.Files[p] = v
		}
	}
	for _, p := range append(snapshotFiles, blockFiles()...) {
		if v, err := readTrim(p); err == nil {
			s.Files[p] = v
		}
	}
	if v, err := cpuDMALatency(); err == nil {
		s.Files["/dev/cpu_dma_latency"] = v
	}
	for _, p := range benchNames {
		_, err := os.Lstat(p)
		s.Names[p] = err == nil
	}
	procs, err := readPriorities()
	if err != nil {
		return nil, fmt.Errorf("read process priorities: %w", err)
	}
	s.Procs = procs
	return s, nil
}

// blockFiles are the readahead, scheduler and request limits of every
// block device.
func blockFiles() []string {
	var out []string
	ents, _ := os.ReadDir("/sys/block")
	for _, e := range ents {
		for _, f := range []string{"read_ahead_kb", "scheduler", "nr_requests"} {
			out = append(out, filepath.Join("/sys/block", e.Name(), "queue", f))
		}
	}
	return out
}

// Diff lists what differs in now against s, one line per item.
func (s *Snapshot) Diff(now *Snapshot) []string {
	var out []string
	for p, v := range s.Files {
		if w, ok := now.Files[p]; ok && w != v {
			out = append(out, fmt.Sprintf("%s: %q -> %q", p, v, w))
		}
	}
	for p, had := range s.Names {
		if now.Names[p] != had {
			out = append(out, fmt.Sprintf("%s: present %v -> %v", p, had, now.Names[p]))
		}
	}
	for k, pri := range s.Procs {
		if q, ok := now.Procs[k]; ok && (q.nice != pri.nice || q.policy != pri.policy) {
			out = append(out, fmt.Sprintf("pid %d (%s): nice %d policy %d -> nice %d policy %d",
				k.pid, pri.comm, pri.nice, pri.policy, q.nice, q.policy))
		}
	}
	sort.Strings(out)
	return out
}

// Restore writes s's values back where now differs, removes the bench's
// leftovers, and returns what could not be restored.
func (s *Snapshot) Restore(now *Snapshot) []string {
	var failed []string
	for _, p := range restoreOrder(s, now) {
		if err := restoreFile(p, s.Files[p]); err != nil {
			failed = append(failed, err.Error())
		}
	}
	for p, had := range s.Names {
		if now.Names[p] && !had {
			if err := removeLeftover(p); err != nil {
				failed = append(failed, err.Error())
			}
		}
	}
	for k, pri := range s.Procs {
		if q, ok := now.Procs[k]; ok && (q.nice != pri.nice || q.policy != pri.policy) {
			if err := setPriority(k.pid, pri); err != nil {
				failed = append(failed, err.Error())
			}
		}
	}
	return failed
}

// restoreOrder lists the differing files to write. dirty_bytes and
// dirty_ratio exclude each other (writing one zeroes the other), so a
// "0" bytes value is restored by writing the ratio, and ratios go first.
func restoreOrder(s, now *Snapshot) []string {
	var first, last []string
	for p, v := range s.Files {
		w, ok := now.Files[p]
		if !ok || w == v {
			continue
		}
		if strings.HasSuffix(p, "_bytes") && v == "0" {
			continue
		}
		if strings.HasSuffix(p, "_bytes") {
			last = append(last, p)
		} else {
			first = append(first, p)
		}
	}
	// a zeroed bytes value comes back by rewriting its ratio
	for _, pair := range [][2]string{{"vm/dirty_bytes", "vm/dirty_ratio"}, {"vm/dirty_background_bytes", "vm/dirty_background_ratio"}} {
		b, r := "/proc/sys/"+pair[0], "/proc/sys/"+pair[1]
		if s.Files[b] == "0" && now.Files[b] != "0" && s.Files[r] == now.Files[r] {
			first = append(first, r)
		}
	}
	sort.Strings(first)
	sort.Strings(last)
	return append(first, last...)
}

func restoreFile(p, v string) error {
	switch {
	case p == "/proc/swaps":
		return restoreSwaps(v)
	case p == "/dev/cpu_dma_latency":
		return fmt.Errorf("%s: a process still holds a CPU latency request (tuned?): %s", p, v)
	case strings.HasSuffix(p, "/scheduler"):
		return writeFile(p, activeChoice(v))
	case strings.HasPrefix(p, "/sys/kernel/mm/transparent_hugepage/"):
		return writeFile(p, activeChoice(v))
	case p == "/sys/block/zram0/disksize":
		return writeFile("/sys/block/zram0/reset", "1")
	}
	return writeFile(p, v)
}

// activeChoice picks the bracketed value of a sysfs choice list
// ("always [madvise] never" -> "madvise").
func activeChoice(v string) string {
	if i := strings.IndexByte(v, '['); i >= 0 {
		if j := strings.IndexByte(v[i:], ']'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	return v
}
