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
	// Pid keeps only this thread group (for sched kinds: either task of
	// the switch or wakeup); 0 = all.
	Pid uint32
	// CgroupID keeps only tasks of this cgroup v2 (see CgroupID); 0 = all.
	CgroupID uint64
	// IncludeSelf records this process too; by default the daemon never
	// traces itself, which would feed back into what it reads.
	IncludeSelf bool
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
			SampleEvery: p.Kind[k].SampleN, MinLatencyNs: p.Kind[k].MinLatencyNs}
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
