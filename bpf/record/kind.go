package record

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// Kind is a record kind: enum ainka_kind, as ainka_hdr.kind stores it. It
// indexes stats_map and policies_map.
type Kind uint16

// Record kinds. The first six and tcp come from the eBPF programs,
// host_sample and kernel_decision are synthesized in user space. Kinds
// keep their numbers (traces store them): a new one goes at the end.
const (
	KindSyscall        = Kind(recordAinkaKindAINKA_KIND_SYSCALL)
	KindSchedSwitch    = Kind(recordAinkaKindAINKA_KIND_SCHED_SWITCH)
	KindSchedWakeup    = Kind(recordAinkaKindAINKA_KIND_SCHED_WAKEUP)
	KindPageFault      = Kind(recordAinkaKindAINKA_KIND_PAGE_FAULT)
	KindNetRx          = Kind(recordAinkaKindAINKA_KIND_NET_RX)
	KindBlockIO        = Kind(recordAinkaKindAINKA_KIND_BLOCK_IO)
	KindHostSample     = Kind(recordAinkaKindAINKA_KIND_HOST_SAMPLE)
	KindKernelDecision = Kind(recordAinkaKindAINKA_KIND_KERNEL_DECISION)
	KindTCP            = Kind(recordAinkaKindAINKA_KIND_TCP)

	// NumKinds is AINKA_KIND_MAX: kinds are 1..NumKinds-1. Untyped, so
	// that it sizes arrays and bounds loops over Kind and integer indexes
	// alike; the compiler checks it against the enum below.
	NumKinds = 10
)

var (
	_ [NumKinds - int(recordAinkaKindAINKA_KIND_MAX)]struct{}
	_ [int(recordAinkaKindAINKA_KIND_MAX) - NumKinds]struct{}
)

// ErrUnknownKind is returned by ParseKind.
var ErrUnknownKind = errors.New("unknown record kind")

// kindNames are the enum's names without AINKA_KIND_, lower case (checked
// against the BTF by TestKinds).
var kindNames = [NumKinds]string{
	"none", "syscall", "sched_switch", "sched_wakeup", "page_fault",
	"net_rx", "block_io", "host_sample", "kernel_decision", "tcp",
}

// recordSizes are the sizeof() of each kind's struct, by kind.
var recordSizes = [NumKinds]int{
	KindSyscall:        int(unsafe.Sizeof(Syscall{})),
	KindSchedSwitch:    int(unsafe.Sizeof(SchedSwitch{})),
	KindSchedWakeup:    int(unsafe.Sizeof(SchedWakeup{})),
	KindPageFault:      int(unsafe.Sizeof(PageFault{})),
	KindNetRx:          int(unsafe.Sizeof(NetRx{})),
	KindBlockIO:        int(unsafe.Sizeof(BlockIO{})),
	KindHostSample:     int(unsafe.Sizeof(HostSample{})),
	KindKernelDecision: int(unsafe.Sizeof(KernelDecision{})),
	KindTCP:            int(unsafe.Sizeof(TCP{})),
}

// String returns the kind's name as used in metrics and taps ("syscall",
// "block_io", ...), or "kind(N)" for a value outside the enum.
func (k Kind) String() string {
	if k < NumKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint16(k))
}

// Valid reports whether k is a real kind (not none, not out of range).
func (k Kind) Valid() bool { return k > 0 && k < NumKinds }

// RecordSize returns the size in bytes of a record of kind k, 0 if k is not
// valid.
func (k Kind) RecordSize() int {
	if !k.Valid() {
		return 0
	}
	return recordSizes[k]
}

// ParseKind parses a kind name (case-insensitive).
func ParseKind(s string) (Kind, error) {
	for k := Kind(1); k < NumKinds; k++ {
		if strings.EqualFold(s, kindNames[k]) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w %q (known: %s)", ErrUnknownKind, s, strings.Join(kindNames[1:], ", "))
}

// RecordKind returns the kind field of a raw record, or 0 if rec is shorter
// than a header.
func RecordKind(rec []byte) Kind {
	if len(rec) < HeaderSize {
		return 0
	}
	return Kind(uint16(rec[KindOffset]) | uint16(rec[KindOffset+1])<<8)
}
