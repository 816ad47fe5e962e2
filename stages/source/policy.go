package source

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/trace"
	"golang.org/x/sys/unix"
)

// Errors about a policy or an injected record.
var (
	ErrBadPolicy       = errors.New("bad capture policy")
	ErrKindNotAttached = errors.New("kind is not attached")
	ErrBadRecord       = errors.New("bad record")
	ErrInjectFull      = errors.New("injection queue full")
	ErrRunning         = errors.New("source already ran")
	ErrStopped         = errors.New("source has stopped")
	// ErrKernelWaitThread: Run with Config.KernelWait on a thread that is
	// not real-time (kwait.go, onRealTimeThread).
	ErrKernelWaitThread = errors.New("kernel wait needs a real-time thread")
)

// Policy is what the kernel records, changeable at run time (policies_map).
type Policy struct {
	// Kinds to record; nil means every attached kind. host_sample here (or
	// nil) turns the host sampler on; kernel_decision needs no switch.
	Kinds []record.Kind
	// SampleEvery[k] = N records 1 in N events of kind k that pass the
	// filters; 0 and 1 mean every event.
	SampleEvery map[record.Kind]uint32
	// MinLatency[k] filters shorter events out: syscall latency,
	// sched_switch run-queue latency, block_io latency.
	MinLatency map[record.Kind]time.Duration
	// Budget[k] turns on the kernel's adaptive sampling of kind k: on a
	// CPU where more than about Budget[k] events of the kind pass the
	// filters per RatePeriod, it keeps 1 in 2^j of them and the record
	// says so (its weight, decode.Event.Weight), so that counts and rates
	// stay estimates of every event while the ring and the pipeline carry
	// a bounded number of records. nil records every event (the daemon
	// sets DefaultBudget). Only the kinds whose consumers read weights:
	// syscall, sched_wakeup, page_fault, net_rx, tcp (sched_switch and block_io
	// feed per-task run time and per-device continuity, which need every
	// record).
	Budget map[record.Kind]uint32
	// RatePeriod is the period of Budget; 0 means DefaultRatePeriod.
	RatePeriod time.Duration
	// Pid keeps only this thread group (for sched kinds: either task of
	// the switch or wakeup); 0 = all.
	Pid uint32
	// CgroupID keeps only tasks of this cgroup v2 (see CgroupID); 0 = all.
	CgroupID uint64
	// IncludeSelf records this process too; by default the daemon never
	// traces itself, which would feed back into what it reads.
	IncludeSelf bool
}

// DefaultRatePeriod and DefaultBudget bound the records of each hot kind
// to about 1000 per second per CPU: enough for a window's rates and
// latency quantiles, a few percent of a CPU to read and fold, where every
// event of a 4 KiB reader's syscalls or a memory hog's page faults took
// 10–20 % of a CPU and made the workload measurably slower
// (docs/bench-history.md).
const DefaultRatePeriod = 10 * time.Millisecond

// DefaultBudget is the daemon's Policy.Budget.
var DefaultBudget = map[record.Kind]uint32{
	record.KindSyscall: 10, record.KindSchedWakeup: 10, record.KindPageFault: 10, record.KindNetRx: 10,
	record.KindTCP: 10,
}

// budgetKind reports whether adaptive sampling may apply to k.
func budgetKind(k record.Kind) bool {
	_, ok := DefaultBudget[k]
	return ok
}

func hasKind(ks []record.Kind, k record.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// kernelPolicy turns p into policies_map's value. Kinds must be attached.
func kernelPolicy(p Policy, attached []record.Kind, wakeupBytes uint64) (bpf.Policy, error) {
	var kp bpf.Policy
	kinds := p.Kinds
	if kinds == nil {
		kinds = attached
	}
	for _, k := range kinds {
		if !k.Valid() {
			return kp, fmt.Errorf("%w: kind %s", ErrBadPolicy, k)
		}
		if k == record.KindHostSample || k == record.KindKernelDecision {
			continue // produced in user space
		}
		if !hasKind(attached, k) {
			return kp, fmt.Errorf("enable %s: %w", k, ErrKindNotAttached)
		}
		kp.Kind[k].Enabled = 1
	}
	for k, n := range p.SampleEvery {
		if !k.Valid() {
			return kp, fmt.Errorf("%w: sampling for kind %s", ErrBadPolicy, k)
		}
		kp.Kind[k].SampleN = n
	}
	for k, d := range p.MinLatency {
		if k != record.KindSyscall && k != record.KindSchedSwitch && k != record.KindBlockIO {
			return kp, fmt.Errorf("%w: min latency applies to syscall, sched_switch and block_io, not %s", ErrBadPolicy, k)
		}
		if d < 0 {
			return kp, fmt.Errorf("%w: negative min latency %v for %s", ErrBadPolicy, d, k)
		}
		kp.Kind[k].MinLatencyNs = uint64(d)
	}
	for k, n := range p.Budget {
		if !budgetKind(k) {
			return kp, fmt.Errorf("%w: adaptive sampling applies to syscall, sched_wakeup, page_fault, net_rx and tcp, not %s", ErrBadPolicy, k)
		}
		kp.Kind[k].Budget = n
	}
	switch {
	case p.RatePeriod < 0:
		return kp, fmt.Errorf("%w: negative rate period %v", ErrBadPolicy, p.RatePeriod)
	case p.RatePeriod == 0:
		kp.RatePeriodNs = uint64(DefaultRatePeriod)
	default:
		kp.RatePeriodNs = uint64(p.RatePeriod)
	}
	kp.Pid = p.Pid
	kp.CgroupId = p.CgroupID
	if !p.IncludeSelf {
		kp.SelfTgid = uint32(os.Getpid())
	}
	kp.WakeupBytes = wakeupBytes
	return kp, nil
}

// CgroupID returns the id of the cgroup v2 directory path, as
// bpf_get_current_cgroup_id reports it (its kernfs inode number).
func CgroupID(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("cgroup %s: %w", path, err)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return 0, fmt.Errorf("cgroup %s: %w", path, err)
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		return 0, fmt.Errorf("%w: %s is not in a cgroup v2 hierarchy", ErrBadPolicy, path)
	}
	return st.Ino, nil
}

// TraceKinds describes p for a trace header: every kind, whether it was on
// and its sampling and latency filter.
func TraceKinds(p bpf.Policy, hostSamples bool) []trace.KindConfig {
	out := make([]trace.KindConfig, 0, record.NumKinds-1)
	for k := record.Kind(1); k < record.NumKinds; k++ {
		kc := trace.KindConfig{Kind: uint16(k), Name: k.String(), Enabled: p.Kind[k].Enabled != 0,
			SampleEvery: p.Kind[k].SampleN, MinLatencyNs: p.Kind[k].MinLatencyNs, Budget: p.Kind[k].Budget}
		if kc.Budget > 0 {
			kc.BudgetPeriodNs = p.RatePeriodNs
		}
		switch k {
		case record.KindHostSample:
			kc.Enabled = hostSamples
		case record.KindKernelDecision:
			kc.Enabled = true
		}
		out = append(out, kc)
	}
	return out
}
