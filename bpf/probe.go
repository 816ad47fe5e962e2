package bpf

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ainka/ainka/bpf/record"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// ProbeKinds are the kinds the eBPF programs produce, in kind order. (The
// others, host_sample and kernel_decision, are written in user space.)
var ProbeKinds = []record.Kind{
	record.KindSyscall, record.KindSchedSwitch, record.KindSchedWakeup,
	record.KindPageFault, record.KindNetRx, record.KindBlockIO, record.KindTCP,
}

// Policy is the value of policies_map (struct ainka_policy).
type Policy = ainkaAinkaPolicy

// KindPolicy is one kind's entry of Policy.Kind (struct ainka_kind_policy).
type KindPolicy = ainkaAinkaKindPolicy

// Stats are one kind's stats_map counters (struct ainka_stats). For every
// kind: Seen == Emitted + Filtered, and Emitted == records put in the ring +
// Lost.
type Stats = ainkaAinkaStats

// DefaultRingBytes is the default size of events_map.
const DefaultRingBytes = 16 << 20

// Errors that explain why the probe cannot run at all.
var (
	ErrNotRoot    = errors.New("loading eBPF programs needs root (CAP_BPF, CAP_PERFMON)")
	ErrNoBTF      = errors.New("kernel has no BTF (/sys/kernel/btf/vmlinux missing; needs CONFIG_DEBUG_INFO_BTF=y)")
	ErrRingSize   = errors.New("ring buffer size must be a power of two and a multiple of the page size")
	ErrNoKinds    = errors.New("none of the requested kinds can be attached on this kernel")
	ErrNotInProbe = errors.New("kind has no eBPF program")
)

// KernelBTFPath is where the running kernel exposes its BTF.
const KernelBTFPath = "/sys/kernel/btf/vmlinux"

// program is one eBPF program and the raw tracepoint it attaches to.
type program struct {
	name       string // program (function) name in ainka.bpf.c
	tracepoint string // tp_btf target, i.e. btf_trace_<tracepoint> in kernel BTF
	group      string // tracefs event group, for diagnostics
	optional   bool   // the kind works without it (with less information)
}

// programs lists, per kind, what must be attached for the kind to work.
var programs = map[record.Kind][]program{
	record.KindSyscall: {
		{name: "ainka_sys_enter", tracepoint: "sys_enter", group: "raw_syscalls"},
		{name: "ainka_sys_exit", tracepoint: "sys_exit", group: "raw_syscalls"},
		// Parks the per-CPU syscall slot of a task switched out mid-syscall.
		{name: "ainka_sys_switch", tracepoint: "sched_switch", group: "sched"},
	},
	record.KindSchedSwitch: {
		{name: "ainka_sched_switch", tracepoint: "sched_switch", group: "sched"},
	},
	record.KindSchedWakeup: {
		{name: "ainka_sched_wakeup", tracepoint: "sched_wakeup", group: "sched"},
		{name: "ainka_sched_wakeup_new", tracepoint: "sched_wakeup_new", group: "sched", optional: true},
	},
	record.KindPageFault: {
		{name: "ainka_page_fault_user", tracepoint: "page_fault_user", group: "exceptions"},
		{name: "ainka_page_fault_kernel", tracepoint: "page_fault_kernel", group: "exceptions"},
	},
	record.KindNetRx: {
		{name: "ainka_netif_receive_skb", tracepoint: "netif_receive_skb", group: "net"},
	},
	record.KindBlockIO: {
		{name: "ainka_block_rq_issue", tracepoint: "block_rq_issue", group: "block"},
		{name: "ainka_block_rq_complete", tracepoint: "block_rq_complete", group: "block"},
	},
	record.KindTCP: {
		{name: "ainka_tcp_retransmit_skb", tracepoint: "tcp_retransmit_skb", group: "tcp"},
		// RTT and counters at incoming segments; retransmissions alone
		// still say which links lose packets.
		{name: "ainka_tcp_probe", tracepoint: "tcp_probe", group: "tcp", optional: true},
	},
}

// Tracepoints returns the "group:name" tracepoints that kind k attaches to.
func Tracepoints(k record.Kind) []string {
	var out []string
	for _, p := range programs[k] {
		out = append(out, p.group+":"+p.tracepoint)
	}
	return out
}

// Options configure Open.
type Options struct {
	// RingBytes is the size of events_map: a power of two, a multiple of
	// the page size. 0 means DefaultRingBytes.
	RingBytes int
	// Kinds to attach; nil means all of ProbeKinds. Kinds that the kernel
	// lacks are left out and reported in Probe.Missing.
	Kinds []record.Kind
}

// Probe is the loaded eBPF object with its programs attached.
type Probe struct {
	coll     *ebpf.Collection
	links    []link.Link
	attached []record.Kind
	// Missing explains, per kind, why it is not attached.
	Missing map[record.Kind]error
}

// Preflight checks, without loading anything, that this process can load
// the object on this kernel: root and kernel BTF.
func Preflight() error {
	return preflight(os.Geteuid(), KernelBTFPath)
}

func preflight(euid int, btfPath string) error {
	if euid != 0 {
		return fmt.Errorf("%w: running as uid %d", ErrNotRoot, euid)
	}
	if _, err := os.Stat(btfPath); err != nil {
		return fmt.Errorf("%w: %v", ErrNoBTF, err)
	}
	return nil
}

func checkRingBytes(n int) error {
	page := os.Getpagesize()
	if n <= 0 || n&(n-1) != 0 || n%page != 0 {
		return fmt.Errorf("%w: %d bytes", ErrRingSize, n)
	}
	return nil
}

// Open loads the object and attaches the programs of opts.Kinds. A kind whose
// tracepoint this kernel lacks is skipped and explained in Probe.Missing; Open
// fails only when nothing at all can be attached. The policy starts all zero:
// every kind is filtered until SetPolicy enables it.
func Open(opts Options) (*Probe, error) {
	kinds, err := checkOptions(&opts)
	if err != nil {
		return nil, err
	}
	if err := Preflight(); err != nil {
		return nil, err
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("raise memlock rlimit: %w", err)
	}
	kernel, err := btf.LoadKernelSpec()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoBTF, err)
	}
	spec, err := loadAinka()
	if err != nil {
		return nil, fmt.Errorf("parse embedded eBPF object: %w", err)
	}
	spec.Maps["events_map"].MaxEntries = uint32(opts.RingBytes)

	p := &Probe{Missing: map[record.Kind]error{}}
	want, toAttach := selectPrograms(kernel, kinds, p.Missing)
	if len(toAttach) == 0 {
		return nil, fmt.Errorf("%w: %v", ErrNoKinds, joinMissing(p.Missing))
	}
	// Programs not wanted are not loaded: a tp_btf program whose target is
	// absent would fail the whole collection.
	for name := range spec.Programs {
		if !want[name] || !hasTracepoint(kernel, tracepointOf(name)) {
			delete(spec.Programs, name)
		}
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{KernelTypes: kernel},
	})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("load eBPF object: %w\n%+v", err, ve)
		}
		return nil, fmt.Errorf("load eBPF object: %w", err)
	}
	p.coll = coll
	for name, prog := range coll.Programs {
		l, err := link.AttachTracing(link.TracingOptions{Program: prog, AttachType: ebpf.AttachTraceRawTp})
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("attach %s to %s: %w", name, tracepointOf(name), err)
		}
		p.links = append(p.links, l)
	}
	p.attached = toAttach
	return p, nil
}

// checkOptions fills the defaults of opts and returns the kinds asked for.
func checkOptions(opts *Options) ([]record.Kind, error) {
	if opts.RingBytes == 0 {
		opts.RingBytes = DefaultRingBytes
	}
	if err := checkRingBytes(opts.RingBytes); err != nil {
		return nil, err
	}
	kinds := opts.Kinds
	if kinds == nil {
		kinds = ProbeKinds
	}
	for _, k := range kinds {
		if _, ok := programs[k]; !ok {
			return nil, fmt.Errorf("attach %s: %w", k, ErrNotInProbe)
		}
	}
	return kinds, nil
}

// selectPrograms picks the kinds this kernel can capture and the programs
// they need; the others go into missing with the reason.
func selectPrograms(kernel *btf.Spec, kinds []record.Kind, missing map[record.Kind]error) (want map[string]bool, toAttach []record.Kind) {
	want = map[string]bool{}
	for _, k := range kinds {
		if err := kindAvailable(kernel, k); err != nil {
			missing[k] = err
			continue
		}
		toAttach = append(toAttach, k)
		for _, prog := range programs[k] {
			want[prog.name] = true
		}
	}
	// Runq latency is measured from the wakeups: attach them for
	// sched_switch too, when the kernel has them.
	if contains(toAttach, record.KindSchedSwitch) && kindAvailable(kernel, record.KindSchedWakeup) == nil {
		for _, prog := range programs[record.KindSchedWakeup] {
			want[prog.name] = true
		}
	}
	return want, toAttach
}

func contains(ks []record.Kind, k record.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func tracepointOf(progName string) string {
	for _, ps := range programs {
		for _, p := range ps {
			if p.name == progName {
				return p.tracepoint
			}
		}
	}
	return ""
}

func hasTracepoint(kernel *btf.Spec, tp string) bool {
	if tp == "" {
		return false
	}
	var td *btf.Typedef
	return kernel.TypeByName("btf_trace_"+tp, &td) == nil
}

// kindAvailable checks that the kernel has every required tracepoint of k.
func kindAvailable(kernel *btf.Spec, k record.Kind) error {
	var missing []string
	for _, p := range programs[k] {
		if !p.optional && !hasTracepoint(kernel, p.tracepoint) {
			missing = append(missing, p.group+":"+p.tracepoint)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrNoTracepoint, strings.Join(missing, ", "))
	}
	return nil
}

// ErrNoTracepoint means the running kernel lacks a tracepoint a kind needs.
var ErrNoTracepoint = errors.New("tracepoint not in this kernel")

func joinMissing(m map[record.Kind]error) string {
	var parts []string
	for k := record.Kind(1); k < record.NumKinds; k++ {
		if err, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s: %v", k, err))
		}
	}
	return strings.Join(parts, "; ")
}

// Attached returns the kinds whose programs are attached, in kind order.
func (p *Probe) Attached() []record.Kind { return append([]record.Kind(nil), p.attached...) }

// Events returns events_map, the ring buffer the records are written to.
func (p *Probe) Events() *ebpf.Map { return p.coll.Maps["events_map"] }

// SetPolicy writes policies_map; it takes effect for the next event.
func (p *Probe) SetPolicy(pol *Policy) error {
	if err := p.coll.Maps["policies_map"].Update(uint32(0), pol, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("write policies_map: %w", err)
	}
	return nil
}

// Policy reads policies_map back.
func (p *Probe) Policy() (Policy, error) {
	var pol Policy
	if err := p.coll.Maps["policies_map"].Lookup(uint32(0), &pol); err != nil {
		return pol, fmt.Errorf("read policies_map: %w", err)
	}
	return pol, nil
}

// Stats returns stats_map summed over CPUs, indexed by record.Kind.
func (p *Probe) Stats() ([record.NumKinds]Stats, error) {
	var out [record.NumKinds]Stats
	var perCPU []Stats
	m := p.coll.Maps["stats_map"]
	for k := uint32(0); k < record.NumKinds; k++ {
		if err := m.Lookup(k, &perCPU); err != nil {
			return out, fmt.Errorf("read stats_map[%s]: %w", record.Kind(k), err)
		}
		for _, s := range perCPU {
			out[k].Seen += s.Seen
			out[k].Emitted += s.Emitted
			out[k].Lost += s.Lost
			out[k].Filtered += s.Filtered
			out[k].Matched += s.Matched
		}
	}
	return out, nil
}

// Detach detaches every program; the maps stay readable, so the ring can be
// drained and the final stats read, which are then exact.
func (p *Probe) Detach() error {
	var errs []error
	for _, l := range p.links {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	p.links = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("detach: %w", err)
	}
	return nil
}

// Close detaches the programs and frees the object.
func (p *Probe) Close() error {
	err := p.Detach()
	if p.coll != nil {
		p.coll.Close()
		p.coll = nil
	}
	return err
}

// ProgramStats returns the kernel's run count and cumulative run time of
// each loaded program, by program name (ainka_sys_enter, ...). They advance
// only while BPF run-time statistics are enabled (ebpf.EnableStats with
// BPF_STATS_RUN_TIME, or the kernel.bpf_stats_enabled sysctl), which costs
// two clock reads per run; benchmarks use them to cost programs one by one.
func (p *Probe) ProgramStats() (map[string]ebpf.ProgramStats, error) {
	if p.coll == nil {
		return nil, errors.New("program stats: probe closed")
	}
	out := make(map[string]ebpf.ProgramStats, len(p.coll.Programs))
	for name, prog := range p.coll.Programs {
		s, err := prog.Stats()
		if err != nil {
			return nil, fmt.Errorf("program stats of %s: %w", name, err)
		}
		out[name] = *s
	}
	return out, nil
}
