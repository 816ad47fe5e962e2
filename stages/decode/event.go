package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/ainka/ainka/bpf"
)

// SchemaVersion is AINKA_SCHEMA_VERSION of bpf/ainka_record.h: the record
// layout this package decodes. A trace of another schema cannot be replayed.
const SchemaVersion = 1

// Kind is a record kind (enum ainka_kind).
type Kind = bpf.Kind

// Record kinds, re-exported so that consumers of events need not import the
// eBPF loader's names.
const (
	KindSyscall        = bpf.KindSyscall
	KindSchedSwitch    = bpf.KindSchedSwitch
	KindSchedWakeup    = bpf.KindSchedWakeup
	KindPageFault      = bpf.KindPageFault
	KindNetRx          = bpf.KindNetRx
	KindBlockIO        = bpf.KindBlockIO
	KindHostSample     = bpf.KindHostSample
	KindKernelDecision = bpf.KindKernelDecision
	NumKinds           = bpf.NumKinds
)

// Sizes of the wire format.
const (
	HeaderSize    = 40
	CommLen       = 16
	MaxRecordSize = 120
)

// Header flags (ainka_hdr.flags).
const (
	FlagFaultUser = 1 << 0
	FlagWakeupNew = 1 << 1
	FlagPrevIdle  = 1 << 2
	FlagNextIdle  = 1 << 3
)

// Host sample presence bits (ainka_host_sample.flags).
const (
	HostHavePSI  = 1 << 0
	HostHaveMem  = 1 << 1
	HostHaveStat = 1 << 2
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

// Payload views. Each mirrors its C struct after the header, field for
// field, so the offsets in Decode read like the header file.
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

// The views must fit the union and match the C sizes (record - header).
var (
	_ [unsafe.Sizeof(Event{}.p) - unsafe.Sizeof(HostSample{})]byte
	_ [unsafe.Sizeof(HostSample{}) - (120 - HeaderSize)]byte
	_ [(120 - HeaderSize) - unsafe.Sizeof(HostSample{})]byte
	_ [unsafe.Sizeof(Syscall{}) - (64 - HeaderSize)]byte
	_ [unsafe.Sizeof(SchedSwitch{}) - (80 - HeaderSize)]byte
	_ [unsafe.Sizeof(SchedWakeup{}) - (72 - HeaderSize)]byte
	_ [unsafe.Sizeof(PageFault{}) - (64 - HeaderSize)]byte
	_ [unsafe.Sizeof(NetRx{}) - (56 - HeaderSize)]byte
	_ [unsafe.Sizeof(BlockIO{}) - (72 - HeaderSize)]byte
	_ [unsafe.Sizeof(KernelDecision{}) - (88 - HeaderSize)]byte
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

var le = binary.LittleEndian

// recordSize is sizeof() of each record struct, by kind, as a C compiler
// lays out bpf/ainka_record.h (checked by the view size assertions above).
var recordSize = [NumKinds]int{0, 64, 80, 72, 64, 56, 72, 120, 88}

// RecordSize returns the wire size of a record of kind k, 0 for an unknown kind.
func RecordSize(k Kind) int {
	if k >= NumKinds {
		return 0
	}
	return recordSize[k]
}

// check validates a record's length against its kind and returns the kind
// or the reject reason.
func check(rec []byte) (Kind, int) {
	if len(rec) < HeaderSize {
		return 0, ReasonShort
	}
	k := Kind(le.Uint16(rec[20:]))
	if k == 0 || k >= NumKinds {
		return k, ReasonUnknownKind
	}
	if len(rec) != recordSize[k] {
		return k, ReasonBadLength
	}
	return k, -1
}

// Decode parses one raw record into e. On error e is unspecified.
func Decode(rec []byte, e *Event) error {
	k, reason := check(rec)
	switch reason {
	case -1:
		decode(rec, k, e)
		return nil
	case ReasonShort:
		return fmt.Errorf("decode: %w: %d bytes", ErrShort, len(rec))
	case ReasonUnknownKind:
		return fmt.Errorf("decode: %w %d", ErrUnknownKind, uint16(k))
	default:
		return fmt.Errorf("decode: %w: %v record of %d bytes, want %d", ErrBadLength, k, len(rec), recordSize[k])
	}
}

// decode parses a record whose kind and length were checked.
func decode(rec []byte, k Kind, e *Event) {
	_ = rec[HeaderSize-1]
	e.TsNs = le.Uint64(rec[0:])
	e.PID = le.Uint32(rec[8:])
	e.TID = le.Uint32(rec[12:])
	e.CPU = le.Uint32(rec[16:])
	e.Kind = k
	e.Flags = le.Uint16(rec[22:])
	copy(e.Comm[:], rec[24:40])
	p := rec[HeaderSize:]
	switch k {
	case KindSyscall:
		_ = p[23]
		s := e.Syscall()
		*s = Syscall{ID: le.Uint32(p[0:]), Ret: int64(le.Uint64(p[8:])), LatencyNs: le.Uint64(p[16:])}
	case KindSchedSwitch:
		_ = p[39]
		s := e.SchedSwitch()
		s.NextPID = le.Uint32(p[0:])
		s.NextTID = le.Uint32(p[4:])
		s.PrevState = int64(le.Uint64(p[8:]))
		s.RunqLatencyNs = le.Uint64(p[16:])
		copy(s.NextComm[:], p[24:40])
	case KindSchedWakeup:
		_ = p[31]
		s := e.SchedWakeup()
		s.TargetPID = le.Uint32(p[0:])
		s.TargetTID = le.Uint32(p[4:])
		s.TargetCPU = le.Uint32(p[8:])
		copy(s.TargetComm[:], p[16:32])
	case KindPageFault:
		_ = p[23]
		*e.PageFault() = PageFault{Address: le.Uint64(p[0:]), IP: le.Uint64(p[8:]), ErrorCode: le.Uint64(p[16:])}
	case KindNetRx:
		_ = p[15]
		*e.NetRx() = NetRx{Ifindex: le.Uint32(p[0:]), Len: le.Uint32(p[4:]), Protocol: le.Uint16(p[8:])}
	case KindBlockIO:
		_ = p[31]
		*e.BlockIO() = BlockIO{
			Dev: le.Uint32(p[0:]), Op: le.Uint32(p[4:]), Sector: le.Uint64(p[8:]),
			NrSector: le.Uint32(p[16:]), Error: int32(le.Uint32(p[20:])), LatencyNs: le.Uint64(p[24:]),
		}
	case KindHostSample:
		_ = p[79]
		*e.HostSample() = HostSample{
			MemTotalKB: le.Uint64(p[0:]), MemAvailableKB: le.Uint64(p[8:]),
			PSICPUSomeUs: le.Uint64(p[16:]), PSIMemSomeUs: le.Uint64(p[24:]), PSIMemFullUs: le.Uint64(p[32:]),
			PSIIOSomeUs: le.Uint64(p[40:]), PSIIOFullUs: le.Uint64(p[48:]),
			NrRunning: le.Uint32(p[56:]), Flags: le.Uint32(p[60:]),
			CPUBusyTicks: le.Uint64(p[64:]), CPUTotalTicks: le.Uint64(p[72:]),
		}
	case KindKernelDecision:
		_ = p[47]
		*e.KernelDecision() = KernelDecision{
			RuleID: le.Uint32(p[0:]), Action: le.Uint32(p[4:]), State: le.Uint32(p[8:]), Metric: le.Uint32(p[12:]),
			Value: int64(le.Uint64(p[16:])), Threshold: int64(le.Uint64(p[24:])),
			LatencyNs: le.Uint64(p[32:]), Seq: le.Uint64(p[40:]),
		}
	}
}
