package tune

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/internal/netns"
	"github.com/ainka/ainka/stages/decide/action"
)

// Mode is what a tuner may do.
type Mode uint8

const (
	Off    Mode = iota
	Advise      // say what it would change and why; change nothing
	Act         // explore, keep what helps, revert what harms
)

var modeNames = [...]string{"off", "advise", "act"}

func (m Mode) String() string { return modeNames[m] }

// ErrConfig is wrapped by configuration errors.
var ErrConfig = errors.New("bad tuners config")

// ParseMode parses off, advise or act.
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if s == n {
			return Mode(i), nil
		}
	}
	return Off, fmt.Errorf("%w: mode %q (want off, advise or act)", ErrConfig, s)
}

// Config configures the stage. Zero fields take the defaults noted.
type Config struct {
	CPU       Mode
	Readahead Mode
	Memory    Mode
	Writeback Mode
	TCP       Mode
	// EffectWindow is the event time over which a setting's objective is
	// measured (the first window after a change is not counted: the change
	// settles). Default 2s. It is also the harm bound's time: a step that
	// makes the objective more than HarmPct worse is reverted at the end
	// of its effect window.
	EffectWindow time.Duration
	// HarmPct is the harm bound (default 10).
	HarmPct float64
	// MaxSteps is how many settings a tuner tries per (regime, target)
	// before it settles on the best one (default 8).
	MaxSteps int
	// ModelPath is where the learned settings are kept ("" = not kept).
	ModelPath string
	// DeviceName maps a block device (major << 20 | minor) to its name in
	// /sys/block; default: the /sys/dev/block link. "" = unknown.
	DeviceName func(dev uint32) string
	// Held reports whether an operator's policy writes the knob the
	// action would write; a tuner leaves such knobs alone (operators'
	// rules win). nil: none are.
	Held func(a action.Action) bool
	// Nice reads a process's nice value (act mode); default /proc.
	Nice func(pid int) (int, error)
	// ReadaheadKB reads a device's read_ahead_kb (act mode); default
	// /sys/block/NAME/queue/read_ahead_kb.
	ReadaheadKB func(name string) (int, error)
	// AllowPID and AllowDevice, when set, limit the tuners to the
	// processes and block devices they accept (tests keep the tuners off
	// the host's own disks and processes); nil: every target.
	AllowPID    func(pid uint32) bool
	AllowDevice func(name string) bool
	// Tunable reports whether a task is a user's: not a kernel thread
	// (khugepaged, kworkers: actuate refuses them, so a trial on one
	// is wasted), not AINKA nor a process it started. The live daemon
	// sets ProcTunable; nil (replays: their pids are not this host's)
	// takes every task. Asked once per task.
	Tunable func(pid uint32) bool
	// Streamer reports whether a task streams data from storage (the
	// live daemon: ProcStreamer, 16 MiB/s or more over its life): the
	// CPU tuner leaves it alone. nil: none does. Asked once per task.
	Streamer func(pid uint32) bool
	// LoopBacking names the disk that holds a loop device's backing file
	// ("" for a device that is not a loop device, or unknown); default
	// /sys/block/NAME/loop/backing_file resolved through stat.
	LoopBacking func(loop string) string
	// Sysctl reads /proc/sys/NAME (act mode); default the file.
	Sysctl func(name string) (string, error)
	// ConnsFollow: the actuator moves a namespace's open TCP connections
	// along with each change of its congestion control (the live daemon
	// when it acts: actuate.Config.OpenConns). The TCP tuner then measures
	// a step from the next window and tries bbr first on a lossy link;
	// otherwise a step waits one effect window for new connections.
	ConnsFollow bool
	// NetnsSysctl reads /proc/sys/NAME inside the network namespace of
	// inode ino (act mode); default: entered with setns (internal/netns).
	NetnsSysctl func(ino uint32, name string) (string, error)
	// MemCgroup finds a process's memory cgroup (act mode): its path and
	// whether it is in the cgroup v1 memory hierarchy; default
	// /proc/PID/cgroup.
	MemCgroup func(pid uint32) (path string, v1 bool, err error)
	// Swapped reads how many bytes of a cgroup v1 memory cgroup are in
	// swap (memory.stat under Cgroup1Memory), or of the host for ""
	// (/proc/meminfo), in act mode.
	Swapped func(cgroup string) (uint64, error)
	// Reclaimed reads a counter of the pages reclaim has taken from a
	// memory cgroup (act mode): v1 memory.stat total_pgpgout under
	// Cgroup1Memory, v2 memory.stat pgsteal under Cgroup2. Its
	// rate is the memory tuner's objective.
	Reclaimed func(cgroup string, v1 bool) (uint64, error)
	// Cgroup1Memory is the mount of the cgroup v1 memory hierarchy ("" =
	// none: the memory tuner bounds a hog's cgroup v2 memory.high, or
	// writes vm.swappiness).
	Cgroup1Memory string
	// Cgroup2 is the mount of the cgroup v2 hierarchy (default
	// /sys/fs/cgroup), where the memory tuner reads v2 memory cgroups.
	Cgroup2 string
	// NetnsName names a network namespace (its inode) for the tuners'
	// keys and messages: OwnNetns for the daemon's own, its name under
	// /run/netns, else "netns-INODE"; default: read from the host.
	NetnsName func(ino uint32) string
	// NetnsInode finds the namespace NetnsName named name (OwnNetns or a
	// name under /run/netns; an error for "netns-INODE", an inode being
	// no name that lasts); default: stat on the host.
	NetnsInode func(name string) (uint32, error)
	// BootID names this boot of the host (event times restart with it);
	// default /proc/sys/kernel/random/boot_id, "" when unreadable.
	BootID func() string
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultEffectWindow = 2 * time.Second
	DefaultHarmPct      = 10
	DefaultMaxSteps     = 8
)

func (c *Config) defaults() error {
	if c.EffectWindow == 0 {
		c.EffectWindow = DefaultEffectWindow
	}
	if c.HarmPct == 0 {
		c.HarmPct = DefaultHarmPct
	}
	if c.MaxSteps == 0 {
		c.MaxSteps = DefaultMaxSteps
	}
	switch {
	case c.EffectWindow < 200*time.Millisecond || c.EffectWindow > 10*time.Minute:
		return fmt.Errorf("%w: effect window %v outside [200ms, 10m]", ErrConfig, c.EffectWindow)
	case c.HarmPct < 1 || c.HarmPct > 50:
		return fmt.Errorf("%w: harm bound %g%% outside [1, 50]", ErrConfig, c.HarmPct)
	case c.MaxSteps < 2 || c.MaxSteps > 100:
		return fmt.Errorf("%w: max steps %d outside [2, 100]", ErrConfig, c.MaxSteps)
	case c.CPU > Act || c.Readahead > Act || c.Memory > Act || c.Writeback > Act || c.TCP > Act:
		return fmt.Errorf("%w: unknown mode", ErrConfig)
	}
	if c.DeviceName == nil {
		c.DeviceName = sysDeviceName
	}
	if c.Nice == nil {
		c.Nice = procNice
	}
	if c.ReadaheadKB == nil {
		c.ReadaheadKB = sysReadaheadKB
	}
	if c.LoopBacking == nil {
		c.LoopBacking = sysLoopBacking
	}
	if c.Sysctl == nil {
		c.Sysctl = sysRead
	}
	if c.NetnsSysctl == nil {
		c.NetnsSysctl = func(ino uint32, name string) (string, error) {
			v, err := netns.Dirs{}.ReadSysctl(uint64(ino), name)
			return strings.TrimSpace(v), err
		}
	}
	if c.NetnsName == nil {
		c.NetnsName = netnsName
	}
	if c.NetnsInode == nil {
		c.NetnsInode = netnsInode
	}
	if c.BootID == nil {
		c.BootID = bootID
	}
	if c.MemCgroup == nil {
		c.MemCgroup = procMemCgroup
	}
	if c.Swapped == nil {
		root := c.Cgroup1Memory
		c.Swapped = func(cg string) (uint64, error) { return readSwapped(root, cg) }
	}
	if c.Cgroup2 == "" {
		c.Cgroup2 = cgroup2Root
	}
	if c.Reclaimed == nil {
		root, root2 := c.Cgroup1Memory, c.Cgroup2
		c.Reclaimed = func(cg string, v1 bool) (uint64, error) { return readReclaimed(root, root2, cg, v1) }
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// procNice reads field 19 of /proc/PID/stat.
func procNice(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	r := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[r+1:])
	if r < 0 || len(f) < 17 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return strconv.Atoi(f[19-3])
}

// sysReadaheadKB reads /sys/block/NAME/queue/read_ahead_kb.
func sysReadaheadKB(name string) (int, error) {
	b, err := os.ReadFile(filepath.Join("/sys/block", name, "queue/read_ahead_kb"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// sysDeviceName resolves a device number through /sys/dev/block.
func sysDeviceName(dev uint32) string {
	p := fmt.Sprintf("/sys/dev/block/%d:%d", dev>>20, dev&(1<<20-1))
	l, err := os.Readlink(p)
	if err != nil {
		return ""
	}
	if _, err := os.Stat(filepath.Join(p, "partition")); err == nil {
		return filepath.Base(filepath.Dir(l)) // readahead is the whole disk's
	}
	return filepath.Base(l)
}

// sysLoopBacking resolves a loop device's backing file to the disk that
// holds it.
func sysLoopBacking(loop string) string {
	b, err := os.ReadFile(filepath.Join("/sys/block", loop, "loop/backing_file"))
	if err != nil {
		return ""
	}
	var st unix.Stat_t
	if err := unix.Stat(strings.TrimSpace(string(b)), &st); err != nil {
		return ""
	}
	return sysDeviceName(unix.Major(st.Dev)<<20 | unix.Minor(st.Dev))
}
