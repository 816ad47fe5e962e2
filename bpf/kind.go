package bpf

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is a record kind: enum ainka_kind in ainka_record.h. It indexes
// stats_map and policies_map.
type Kind uint16

// Record kinds. The first six come from the eBPF programs, the last two are
// synthesized in user space.
const (
	KindSyscall        Kind = 1
	KindSchedSwitch    Kind = 2
	KindSchedWakeup    Kind = 3
	KindPageFault      Kind = 4
	KindNetRx          Kind = 5
	KindBlockIO        Kind = 6
	KindHostSample     Kind = 7
	KindKernelDecision Kind = 8

	// NumKinds is AINKA_KIND_MAX: kinds are 1..NumKinds-1.
	NumKinds = 9
)

// KindOffset is the byte offset of ainka_hdr.kind (a little-endian uint16)
// in every record.
const KindOffset = 20

// HeaderSize is sizeof(struct ainka_hdr).
const HeaderSize = 40

// ErrUnknownKind is returned by ParseKind.
var ErrUnknownKind = errors.New("unknown record kind")

var kindNames = [NumKinds]string{
	"none", "syscall", "sched_switch", "sched_wakeup", "page_fault",
	"net_rx", "block_io", "host_sample", "kernel_decision",
}

// recordSizes are the sizeof() of each record struct in ainka_record.h,
// checked at compile time by _Static_assert in ainka.bpf.c. (The header's
// comment says 112 for host_sample; it is 120.)
var recordSizes = [NumKinds]int{0, 64, 80, 72, 64, 56, 72, 120, 88}

// ProbeKinds are the kinds the eBPF programs produce, in kind order.
var ProbeKinds = []Kind{KindSyscall, KindSchedSwitch, KindSchedWakeup, KindPageFault, KindNetRx, KindBlockIO}

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
