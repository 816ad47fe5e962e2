package decode

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/ainka/ainka/bpf/record"
)

// SchemaVersion is AINKA_SCHEMA_VERSION of bpf/ainka_record.h: the record
// layout this package decodes. A trace of a schema from MinSchemaVersion to
// SchemaVersion can be replayed (schema 1 had no record weights: every
// record weighs 1), of another one cannot.
const (
	SchemaVersion    = record.SchemaVersion
	MinSchemaVersion = record.MinSchemaVersion
)

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

// Why a record was rejected. The values index Stage.Errors.
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
// Its memory is a record's, as large as the largest: the header fields lay
// out like record.Header (TestEventMatchesRecords), and the payload follows.
// So decoding is one copy of the record's bytes, encoding one append, and
// the views below are bpf/record's generated structs over the event. That
// holds because bpf/record, and so this package, builds only for
// little-endian targets, the wire's byte order.
type Event struct {
	TsNs  uint64 // CLOCK_MONOTONIC, kernel time of the event
	PID   uint32 // thread-group id
	TID   uint32 // thread id
	CPU   uint32
	Kind  Kind
	Flags uint16
	Comm  [CommLen]byte

	// p is the payload: what follows the header in the kind's struct.
	p [10]uint64
}

// An event holds the largest record exactly, its payload after the header.
var (
	_ [int(unsafe.Sizeof(Event{})) - MaxRecordSize]byte
	_ [MaxRecordSize - int(unsafe.Sizeof(Event{}))]byte
	_ [int(unsafe.Offsetof(Event{}.p)) - HeaderSize]byte
	_ [HeaderSize - int(unsafe.Offsetof(Event{}.p))]byte
)

// The views are the kind's record struct over the whole event: their Hdr is
// the event's header fields. Each is valid only for the matching Kind (for
// another kind it shows that kind's bytes reinterpreted).

func (e *Event) Syscall() *record.Syscall { return (*record.Syscall)(unsafe.Pointer(e)) }
func (e *Event) SchedSwitch() *record.SchedSwitch {
	return (*record.SchedSwitch)(unsafe.Pointer(e))
}
func (e *Event) SchedWakeup() *record.SchedWakeup {
	return (*record.SchedWakeup)(unsafe.Pointer(e))
}
func (e *Event) PageFault() *record.PageFault   { return (*record.PageFault)(unsafe.Pointer(e)) }
func (e *Event) NetRx() *record.NetRx           { return (*record.NetRx)(unsafe.Pointer(e)) }
func (e *Event) BlockIO() *record.BlockIO       { return (*record.BlockIO)(unsafe.Pointer(e)) }
func (e *Event) HostSample() *record.HostSample { return (*record.HostSample)(unsafe.Pointer(e)) }
func (e *Event) KernelDecision() *record.KernelDecision {
	return (*record.KernelDecision)(unsafe.Pointer(e))
}

// Weight returns how many events e stands for: 2^k when the kernel's
// adaptive sampling kept it as 1 of 2^k (record.Weight), else 1.
func (e *Event) Weight() uint64 { return record.Weight(e.Flags) }

// CommString returns comm up to its NUL.
func CommString(c *[CommLen]byte) string { return record.CommString(c) }

// SetComm copies s into c, truncated and NUL padded like the kernel's comm.
func SetComm(c *[CommLen]byte, s string) { record.SetComm(c, s) }

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

// Bytes is e's memory as record bytes: a probe plugin record's fields are
// read from it (plugins/probe/spec.Field.Value).
func (e *Event) Bytes() []byte { return e.wire()[:] }

// decode copies a record whose kind and length were checked into e. The
// payload bytes past this kind's struct keep what they held.
func decode(rec []byte, e *Event) { copy(e.wire()[:], rec) }
