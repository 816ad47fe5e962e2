package decode

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/ainka/ainka/bpf/record"
)

// SchemaVersion is AINKA_SCHEMA_VERSION of bpf/ainka_record.h: the record
// layout this package decodes. A trace of another schema cannot be replayed.
const SchemaVersion = record.SchemaVersion

// Kind is a record kind (enum ainka_kind).
type Kind = record.Kind

// The wire format's names, re-exported so that consumers of events need
// not import bpf/record.
const (
	KindSyscall        = record.KindSyscall
	KindSchedSwitch    = record.KindSchedSwitch
	KindSchedWakeup    = record.KindSchedWakeup
	KindPageFault      = record.KindPageFault
	KindNetRx          = record.KindNetRx
	KindBlockIO        = record.KindBlockIO
	KindHostSample     = record.KindHostSample
	KindKernelDecision = record.KindKernelDecision
	NumKinds           = record.NumKinds

	HeaderSize    = record.HeaderSize
	CommLen       = record.CommLen
	MaxRecordSize = record.MaxRecordSize

	FlagFaultUser = record.FlagFaultUser
	FlagWakeupNew = record.FlagWakeupNew
	FlagPrevIdle  = record.FlagPrevIdle
	FlagNextIdle  = record.FlagNextIdle

	HostHavePSI  = record.HostHavePSI
	HostHaveMem  = record.HostHaveMem
	HostHaveStat = record.HostHaveStat
)

// Why a record was rejected. The values index Decoder.Errors.
const (
	ReasonShort       = iota // shorter than a header
	ReasonUnknownKind        // kind outside the enum
	ReasonBadLength          // length does not match the kind's struct
	NumReasons
)

var reasonNames = [NumReasons]string{"short", "unknown_kind", "bad_length"}

// ReasonName returns the reason label used in ainka_decode_errors_total.
func ReasonName(r int) string { return reasonNames[r] }

// Sentinel errors of Decode.
var (
	ErrShort       = errors.New("record shorter than its header")
	ErrUnknownKind = errors.New("unknown record kind")
	ErrBadLength   = errors.New("record length wrong for its kind")
)

// Event is one decoded record. Its size is fixed (no pointers), so batches
// of events are plain memory that the pipeline recycles.
//
// Its memory is a record's: the header fields lay out like record.Header
// and the payload views like the record structs after their header
// (TestEventMatchesRecords), so decoding is one copy of the record's bytes
// and encoding one append. That holds because bpf/record, and so this
// package, builds only for little-endian targets, the wire's byte order.
type Event struct {
	TsNs  uint64 // CLOCK_MONOTONIC, kernel time of the event
	PID   uint32 // thread-group id
	TID   uint32 // thread id
	CPU   uint32
	Kind  Kind
	Flags uint16
	Comm  [CommLen]byte

	// p is the payload union: exactly one of the views below, by Kind.
	p [10]uint64
}

// Payload views: each is its record struct of bpf/record after the header,
// with Go names (ID, NextPID) and comms as bytes. TestEventMatchesRecords
// checks them field by field against the generated types.
type (
	Syscall struct {
		ID        uint32
		_         uint32
		Ret       int64
		LatencyNs uint64
	}
	SchedSwitch struct {
		NextPID       uint32
		NextTID       uint32
		PrevState     int64
		RunqLatencyNs uint64 // how long next waited runnable; 0 if unknown
		NextComm      [CommLen]byte
	}
	SchedWakeup struct {
		TargetPID  uint32
		TargetTID  uint32
		TargetCPU  uint32
		_          uint32
		TargetComm [CommLen]byte
	}
	PageFault struct {
		Address   uint64
		IP        uint64
		ErrorCode uint64
	}
	NetRx struct {
		Ifindex  uint32
		Len      uint32
		Protocol uint16 // host byte order
		_        uint16
		_        uint32
	}
	BlockIO struct {
		Dev       uint32 // major << 20 | minor
		Op        uint32 // REQ_OP_*
		Sector    uint64
		NrSector  uint32
		Error     int32 // -errno, 0 on success
		LatencyNs uint64
	}
	HostSample struct {
		MemTotalKB     uint64
		MemAvailableKB uint64
		PSICPUSomeUs   uint64
		PSIMemSomeUs   uint64
		PSIMemFullUs   uint64
		PSIIOSomeUs    uint64
		PSIIOFullUs    uint64
		NrRunning      uint32
		Flags          uint32 // HostHave*
		CPUBusyTicks   uint64
		CPUTotalTicks  uint64
	}
	KernelDecision struct {
		RuleID    uint32
		Action    uint32
		State     uint32
		Metric    uint32
		Value     int64
		Threshold int64
		LatencyNs uint64
		Seq       uint64
	}
)

// The union holds the largest payload exactly, after a header-sized header.
var (
	_ [int(unsafe.Sizeof(Event{})) - MaxRecordSize]byte
	_ [MaxRecordSize - int(unsafe.Sizeof(Event{}))]byte
	_ [int(unsafe.Offsetof(Event{}.p)) - HeaderSize]byte
	_ [HeaderSize - int(unsafe.Offsetof(Event{}.p))]byte
)

// The views alias the union; they are valid only for the matching Kind
// (for another kind they show that kind's payload bytes reinterpreted).

func (e *Event) Syscall() *Syscall         { return (*Syscall)(unsafe.Pointer(&e.p)) }
func (e *Event) SchedSwitch() *SchedSwitch { return (*SchedSwitch)(unsafe.Pointer(&e.p)) }
func (e *Event) SchedWakeup() *SchedWakeup { return (*SchedWakeup)(unsafe.Pointer(&e.p)) }
func (e *Event) PageFault() *PageFault     { return (*PageFault)(unsafe.Pointer(&e.p)) }
func (e *Event) NetRx() *NetRx             { return (*NetRx)(unsafe.Pointer(&e.p)) }
func (e *Event) BlockIO() *BlockIO         { return (*BlockIO)(unsafe.Pointer(&e.p)) }
func (e *Event) HostSample() *HostSample   { return (*HostSample)(unsafe.Pointer(&e.p)) }
func (e *Event) KernelDecision() *KernelDecision {
	return (*KernelDecision)(unsafe.Pointer(&e.p))
}

// ClearPayload zeroes the payload union, for producers that build events.
func (e *Event) ClearPayload() { e.p = [10]uint64{} }

// CommString returns comm up to its NUL.
func CommString(c *[CommLen]byte) string {
	n := 0
	for n < CommLen && c[n] != 0 {
		n++
	}
	return string(c[:n])
}

// SetComm copies s into c, truncated and NUL padded like the kernel's comm.
func SetComm(c *[CommLen]byte, s string) {
	*c = [CommLen]byte{}
	copy(c[:CommLen-1], s)
}

// RecordSize returns the wire size of a record of kind k, 0 for an unknown kind.
func RecordSize(k Kind) int { return k.RecordSize() }

// check validates a record's length against its kind and returns the kind
// or the reject reason.
func check(rec []byte) (Kind, int) {
	k := record.RecordKind(rec)
	switch {
	case len(rec) < HeaderSize:
		return 0, ReasonShort
	case !k.Valid():
		return k, ReasonUnknownKind
	case len(rec) != k.RecordSize():
		return k, ReasonBadLength
	}
	return k, -1
}

// Decode parses one raw record into e. On error e is unspecified.
func Decode(rec []byte, e *Event) error {
	k, reason := check(rec)
	switch reason {
	case -1:
		decode(rec, e)
		return nil
	case ReasonShort:
		return fmt.Errorf("decode: %w: %d bytes", ErrShort, len(rec))
	case ReasonUnknownKind:
		return fmt.Errorf("decode: %w %d", ErrUnknownKind, uint16(k))
	default:
		return fmt.Errorf("decode: %w: %v record of %d bytes, want %d", ErrBadLength, k, len(rec), k.RecordSize())
	}
}

// wire is e's memory as record bytes (see Event).
func (e *Event) wire() *[MaxRecordSize]byte {
	return (*[MaxRecordSize]byte)(unsafe.Pointer(e))
}

// decode copies a record whose kind and length were checked into e. The
// payload bytes past this kind's struct keep what they held.
func decode(rec []byte, e *Event) { copy(e.wire()[:], rec) }
