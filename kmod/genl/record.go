package genl

import "encoding/binary"

// Layout of struct ainka_kernel_decision in bpf/ainka_record.h.
const (
	kindKernelDecision = 8 // AINKA_KIND_KERNEL_DECISION
	hdrSize            = 40
	KernelDecisionSize = 88
	recordComm         = "ainka_core"
)

// AppendRecord appends the event as the record bytes of struct
// ainka_kernel_decision (little-endian, 88 bytes): hdr.ts_ns is the
// event's CLOCK_MONOTONIC time (the condition's sample for decisions),
// pid/tid/cpu are 0 (no task is concerned), comm is "ainka_core".
func (e Event) AppendRecord(dst []byte) []byte {
	var r [KernelDecisionSize]byte
	le := binary.LittleEndian
	le.PutUint64(r[0:], e.TsNs)
	// pid, tid, cpu: 0
	le.PutUint16(r[20:], kindKernelDecision)
	le.PutUint16(r[22:], uint16(e.Type)) // AINKA_DECISION_*: the announcement's type
	copy(r[24:24+16], recordComm)
	le.PutUint32(r[hdrSize+0:], e.RuleID)
	le.PutUint32(r[hdrSize+4:], uint32(e.Action))
	le.PutUint32(r[hdrSize+8:], uint32(e.State))
	le.PutUint32(r[hdrSize+12:], uint32(e.Metric))
	le.PutUint64(r[hdrSize+16:], uint64(e.Value))
	le.PutUint64(r[hdrSize+24:], uint64(e.Threshold))
	le.PutUint64(r[hdrSize+32:], uint64(e.Latency))
	le.PutUint64(r[hdrSize+40:], e.Seq)
	return append(dst, r[:]...)
}
