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
