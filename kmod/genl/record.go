package genl

import (
	"unsafe"

	"github.com/ainka/ainka/bpf/record"
)

// KernelDecisionSize is sizeof(struct ainka_kernel_decision): what
// AppendRecord appends.
const KernelDecisionSize = int(unsafe.Sizeof(record.KernelDecision{}))

// recordComm names the module as the records' task.
var recordComm = func() (c [record.CommLen]byte) {
	record.SetComm(&c, "ainka_core")
	return c
}()

// AppendRecord appends the event as a kernel_decision record
// (struct ainka_kernel_decision of bpf/ainka_record.h): hdr.ts_ns is the
// event's CLOCK_MONOTONIC time (the condition's sample for decisions),
// pid/tid/cpu are 0 (no task is concerned), comm is "ainka_core" and
// hdr.flags the announcement's type (record.Decision*, the values of
// EventType).
func (e Event) AppendRecord(dst []byte) []byte {
	r := record.KernelDecision{
		Hdr: record.Header{TsNs: e.TsNs, Kind: uint16(record.KindKernelDecision),
			Flags: uint16(e.Type), Comm: recordComm},
		RuleId: e.RuleID, Action: uint32(e.Action), State: uint32(e.State), Metric: uint32(e.Metric),
		Value: e.Value, Threshold: e.Threshold, LatencyNs: uint64(e.Latency), Seq: e.Seq,
	}
	return record.Append(dst, &r)
}
