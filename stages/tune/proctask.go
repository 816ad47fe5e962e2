package tune

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrProcStat is wrapped when a /proc/PID/stat cannot be parsed.
var ErrProcStat = errors.New("parse proc stat")

// pfKthread is the kernel's PF_KTHREAD task flag (include/linux/sched.h),
// field 9 of /proc/PID/stat.
const pfKthread = 0x00200000

// maxAncestry bounds the walk up the parent chain (a chain of processes
// deeper than this is not AINKA's).
const maxAncestry = 64

// Origin is who a task belongs to, for the tuners: they act on users'
// work only.
type Origin uint8

const (
	UserTask   Origin = iota
	KernelTask        // a kernel thread: khugepaged, kworker/*, kswapd0
	OwnTask           // AINKA itself or a process it started
)

var originNames = [...]string{"user", "kernel thread", "AINKA's own"}

func (o Origin) String() string { return originNames[o] }

// ProcTunable is Config.Tunable on the host: a task is tunable when it is
// a user process, neither a kernel thread nor AINKA (self) nor one of its
// descendants. A task that cannot be read (it exited) is not tunable.
func ProcTunable(proc string, self int) func(pid uint32) bool {
	return func(pid uint32) bool {
		o, err := TaskOrigin(proc, int(pid), self)
		return err == nil && o == UserTask
	}
}

// TaskOrigin reads whose task pid is from /proc.
//
// A kernel thread is known by PF_KTHREAD in its stat flags: the flag is
// what the kernel itself tests (actuate's selectors and the module refuse
// renicing such a task by it). The other signs are weaker: an empty
// cmdline or a missing exe link are also a zombie's, or a process's that
// rewrote its argv; a parent of pid 2 holds only in the initial pid
// namespace (in a container pid 2 is a user process) and kthreadd itself
// has parent 0.
//
// AINKA's own: pid is self, or self is among its ancestors (the parent
// chain, at most maxAncestry deep).
func TaskOrigin(proc string, pid, self int) (Origin, error) {
	for i, p := 0, pid; i < maxAncestry && p > 0; i++ {
		if p == self {
			return OwnTask, nil
		}
		ppid, flags, err := readStatFlags(proc, p)
		if err != nil {
			if i == 0 {
				return UserTask, err
			}
			return UserTask, nil // an ancestor exited: pid was reparented, not ours
		}
		if i == 0 && flags&pfKthread != 0 {
			return KernelTask, nil
		}
		p = ppid
	}
	return UserTask, nil
}

// readStatFlags reads the parent (field 4) and flags (field 9) of
// /proc/PID/stat. The command (field 2) may hold spaces and parentheses:
// the fields after it start after its last ')'.
func readStatFlags(proc string, pid int) (ppid int, flags uint64, err error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, fmt.Errorf("read task %d: %w", pid, err)
	}
	return parseStatFlags(string(b))
}

func parseStatFlags(s string) (ppid int, flags uint64, err error) {
	r := strings.LastIndexByte(s, ')')
	if r < 0 {
		return 0, 0, fmt.Errorf("%w: no command in %.40q", ErrProcStat, s)
	}
	f := strings.Fields(s[r+1:])
	// f[0] is field 3 (state); field N is f[N-3]
	if len(f) < 9-2 {
		return 0, 0, fmt.Errorf("%w: %d fields after the command, want 7 or more", ErrProcStat, len(f))
	}
	if ppid, err = strconv.Atoi(f[4-3]); err != nil {
		return 0, 0, fmt.Errorf("%w: parent %q", ErrProcStat, f[4-3])
	}
	if flags, err = strconv.ParseUint(f[9-3], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("%w: flags %q", ErrProcStat, f[9-3])
	}
	return ppid, flags, nil
}

// mayTarget: a task the tuners may act on: pid 1 never, AllowPID's, and
// a user task by Config.Tunable (read once per entry: a task's origin
// does not change; an entry whose command changes, a pid reused, asks
// again).
func (s *Stage) mayTarget(e *taskEnt) bool {
	if e.pid <= 1 || (s.cfg.AllowPID != nil && !s.cfg.AllowPID(e.pid)) {
		return false
	}
	if s.cfg.Tunable == nil {
		return true
	}
	if e.tunable == 0 {
		e.tunable = 1
		if !s.cfg.Tunable(e.pid) {
			e.tunable = -1
		}
	}
	return e.tunable > 0
}

// streamBps: a task that has made the disk read this much per second
// over its life (16 MiB/s) streams data; the CPU it uses is the copying
// of what it reads.
const streamBps = 16 << 20

// clkTck is USER_HZ, the unit of /proc/PID/stat's starttime.
const clkTck = 100

// ProcStreamer is Config.Streamer on the host: the task's read_bytes
// (/proc/PID/io: what its reads and their readahead fetched from
// storage) over its age is streamBps or more. A task that cannot be read
// is not a streamer (actuate still checks the target).
func ProcStreamer(proc string) func(pid uint32) bool {
	return func(pid uint32) bool {
		r, err := DiskReadRate(proc, int(pid))
		return err == nil && r >= streamBps
	}
}

// DiskReadRate is the bytes per second pid has made storage read over its
// life: read_bytes of /proc/PID/io over the time since its start.
func DiskReadRate(proc string, pid int) (float64, error) {
	dir := filepath.Join(proc, strconv.Itoa(pid))
	io, err := os.ReadFile(filepath.Join(dir, "io"))
	if err != nil {
		return 0, fmt.Errorf("read task %d: %w", pid, err)
	}
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return 0, fmt.Errorf("read task %d: %w", pid, err)
	}
	up, err := os.ReadFile(filepath.Join(proc, "uptime"))
	if err != nil {
		return 0, fmt.Errorf("read uptime: %w", err)
	}
	return diskReadRate(string(io), string(stat), string(up))
}

func diskReadRate(io, stat, uptime string) (float64, error) {
	var bytes float64
	found := false
	for _, l := range strings.Split(io, "\n") {
		if v, ok := strings.CutPrefix(l, "read_bytes:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%w: read_bytes %q", ErrProcStat, strings.TrimSpace(v))
			}
			bytes, found = float64(n), true
		}
	}
	if !found {
		return 0, fmt.Errorf("%w: no read_bytes in io", ErrProcStat)
	}
	r := strings.LastIndexByte(stat, ')')
	f := strings.Fields(stat[r+1:])
	if r < 0 || len(f) < 22-2 {
		return 0, fmt.Errorf("%w: no start time in stat", ErrProcStat)
	}
	start, err := strconv.ParseUint(f[22-3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: start time %q", ErrProcStat, f[22-3])
	}
	u := strings.Fields(uptime)
	if len(u) == 0 {
		return 0, fmt.Errorf("%w: empty uptime", ErrProcStat)
	}
	now, err := strconv.ParseFloat(u[0], 64)
	if err != nil {
		return 0, fmt.Errorf("%w: uptime %q", ErrProcStat, u[0])
	}
	// At least a tick of age: a task started this instant has read little.
	age := max(now-float64(start)/clkTck, 1.0/clkTck)
	return bytes / age, nil
}

// streaming: the task streams data from storage (Config.Streamer, read
// once per entry as Tunable is).
func (s *Stage) streaming(e *taskEnt) bool {
	if s.cfg.Streamer == nil {
		return false
	}
	if e.streamer == 0 {
		e.streamer = -1
		if s.cfg.Streamer(e.pid) {
			e.streamer = 1
		}
	}
	return e.streamer > 0
}
