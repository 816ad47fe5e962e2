package record

import "unsafe"

// The record structs of bpf/ainka_record.h, each with its header (Hdr).
// Field names are bpf2go's (snake_case to CamelCase: Pid, RuleId).
type (
	Header         = recordAinkaHdr
	Syscall        = recordAinkaSyscall
	SchedSwitch    = recordAinkaSchedSwitch
	SchedWakeup    = recordAinkaSchedWakeup
	PageFault      = recordAinkaPageFault
	NetRx          = recordAinkaNetRx
	BlockIO        = recordAinkaBlockIo
	HostSample     = recordAinkaHostSample
	KernelDecision = recordAinkaKernelDecision
	TCP            = recordAinkaTcp
)

// Record is any record struct: what Append accepts.
type Record interface {
	Syscall | SchedSwitch | SchedWakeup | PageFault | NetRx | BlockIO | HostSample | KernelDecision | TCP
}

// SchemaVersion is AINKA_SCHEMA_VERSION: traces store it, and decode refuses
// records of another version.
const SchemaVersion = uint32(recordAinkaFormatAINKA_SCHEMA_VERSION)

// MinSchemaVersion is the oldest schema decode reads: a schema 1 record is
// a schema 2 record of weight 1 (its flags have no weight bits).
const MinSchemaVersion = 1

// Sizes and offsets of the header, from the generated struct.
const (
	HeaderSize = int(unsafe.Sizeof(Header{}))
	KindOffset = int(unsafe.Offsetof(Header{}.Kind))
	CommLen    = len(Header{}.Comm) // AINKA_COMM_LEN

	// MaxRecordSize is the largest record (host_sample).
	MaxRecordSize = int(unsafe.Sizeof(HostSample{}))
)

// The enum and the array length cannot disagree once the header compiles;
// this keeps the Go constant honest too.
var _ [CommLen - int(recordAinkaFormatAINKA_COMM_LEN)]struct{}
var _ [int(recordAinkaFormatAINKA_COMM_LEN) - CommLen]struct{}

// Header flags (ainka_hdr.flags, enum ainka_hdr_flag).
const (
	FlagFaultUser  = uint16(recordAinkaHdrFlagAINKA_F_FAULT_USER)
	FlagWakeupNew  = uint16(recordAinkaHdrFlagAINKA_F_WAKEUP_NEW)
	FlagPrevIdle   = uint16(recordAinkaHdrFlagAINKA_F_PREV_IDLE)
	FlagNextIdle   = uint16(recordAinkaHdrFlagAINKA_F_NEXT_IDLE)
	FlagTCPRetrans = uint16(recordAinkaHdrFlagAINKA_F_TCP_RETRANS)
)

// A record's weight in hdr.flags (enum ainka_weight): adaptive sampling
// writes the log2 of the number of events the record stands for.
const (
	WeightShift   = uint16(recordAinkaWeightAINKA_WEIGHT_SHIFT)
	WeightMask    = uint16(recordAinkaWeightAINKA_WEIGHT_MASK)
	WeightMaxLog2 = uint16(recordAinkaWeightAINKA_WEIGHT_MAX_LOG2)
)

// Weight returns the number of events a record with these header flags
// stands for: 1, or 2^k when adaptive sampling kept 1 event in 2^k.
func Weight(flags uint16) uint64 { return 1 << ((flags & WeightMask) >> WeightShift) }

// Host sample presence bits (ainka_host_sample.flags, enum ainka_host_flag).
const (
	HostHavePSI  = uint32(recordAinkaHostFlagAINKA_HOST_HAVE_PSI)
	HostHaveMem  = uint32(recordAinkaHostFlagAINKA_HOST_HAVE_MEM)
	HostHaveStat = uint32(recordAinkaHostFlagAINKA_HOST_HAVE_STAT)
)

// Kernel-decision announcement types, carried in hdr.flags of
// kernel_decision records (enum ainka_decision_type, which mirrors the
// module's enum ainka_event_type).
const (
	DecisionRule     = uint16(recordAinkaDecisionTypeAINKA_DECISION_RULE)
	DecisionRecovery = uint16(recordAinkaDecisionTypeAINKA_DECISION_RECOVERY)
	DecisionState    = uint16(recordAinkaDecisionTypeAINKA_DECISION_STATE)
	DecisionKernel   = uint16(recordAinkaDecisionTypeAINKA_DECISION_KERNEL)
	DecisionPredict  = uint16(recordAinkaDecisionTypeAINKA_DECISION_PREDICT)
)

// Append appends r's wire bytes to dst. A generated struct has the C layout
// (structs.HostLayout, padding as named fields; TestLayout checks it against
// the BTF) and this package builds only for little-endian targets, so the
// struct's memory is the record, byte for byte.
func Append[R Record](dst []byte, r *R) []byte {
	return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(r)), unsafe.Sizeof(*r))...)
}

// SetComm copies s into c, truncated and NUL padded like the kernel's comm.
func SetComm(c *[CommLen]byte, s string) {
	*c = [CommLen]byte{}
	copy(c[:CommLen-1], s)
}

// CommString returns comm up to its NUL.
func CommString(c *[CommLen]byte) string {
	n := 0
	for n < CommLen && c[n] != 0 {
		n++
	}
	return string(c[:n])
}
