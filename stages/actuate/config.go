package actuate

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/ainka/ainka/kmod/genl"
)

// Config configures the actuate stage.
type Config struct {
	// DryRun: compute and report every change, write nothing (not even
	// the journal, and no restore of a previous run's journal).
	DryRun bool
	// JournalPath is the crash-safe journal, e.g. WORK_DIR/journal.
	// Required unless DryRun.
	JournalPath string

	// Roots of the host's interfaces, for tests; empty: the real ones.
	ProcSys    string // /proc/sys
	Proc       string // /proc
	RunNetns   string // /run/netns: named network namespaces (ip netns)
	SysBlock   string // /sys/block
	CPUDir     string // /sys/devices/system/cpu
	CgroupRoot string // empty: the cgroup2 mount from /proc/self/mountinfo
	// Cgroup1CPU is a cgroup v1 hierarchy with the cpu controller, used
	// for cpu.weight (as cpu.shares) when the host binds cpu to v1. Empty:
	// found in /proc/self/mountinfo; "-": never.
	Cgroup1CPU string
	// Cgroup1Memory is a cgroup v1 hierarchy with the memory controller,
	// where memory.swappiness (a v1-only file) is written. Empty: found in
	// /proc/self/mountinfo; "-": never.
	Cgroup1Memory string

	// Kernel is the kernel module client, dialled once by whoever composes
	// the daemon, which also closes it. Nil: no module (not loaded, or not
	// wanted, as in replays); kernel actions are then reported unsupported
	// and everything else is done from user space.
	Kernel genl.Client

	// OpenConns, when set, moves a network namespace's open TCP
	// connections along with each write of its
	// net.ipv4.tcp_congestion_control (conns.go); Close closes it. Nil:
	// only connections opened afterwards follow the sysctl.
	OpenConns OpenConns

	KnobInterval  time.Duration // least real time between two writes of one knob (default 1s; <0 none)
	MaxWritesPerS int           // writes per second over all knobs (default 20)
	AuditInterval time.Duration // how often Process checks AINKA's knobs for outside changes (default 1s)

	Logger *slog.Logger
}

// defaults fills the zero fields and checks the others.
func (cfg *Config) defaults() error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&cfg.ProcSys, "/proc/sys")
	def(&cfg.Proc, "/proc")
	def(&cfg.RunNetns, "/run/netns")
	def(&cfg.SysBlock, "/sys/block")
	def(&cfg.CPUDir, "/sys/devices/system/cpu")
	if cfg.KnobInterval == 0 {
		cfg.KnobInterval = time.Second
	}
	if cfg.KnobInterval < 0 {
		cfg.KnobInterval = 0
	}
	if cfg.MaxWritesPerS == 0 {
		cfg.MaxWritesPerS = 20
	}
	if cfg.MaxWritesPerS < 0 {
		return fmt.Errorf("actuate config: max writes per second %d must be positive", cfg.MaxWritesPerS)
	}
	if cfg.AuditInterval == 0 {
		cfg.AuditInterval = time.Second
	}
	return nil
}
