package genl

import (
	"testing"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/stages/decode"
)

// TestAppendRecordDecodes: the record AppendRecord writes is the one the
// decode stage reads back, field for field. (bpf/record checks the layout
// itself against the header's BTF.)
func TestAppendRecordDecodes(t *testing.T) {
	e := Event{Type: EventDecision, Seq: 0x0102030405060708, State: StateEmergency, RuleID: 77,
		Action: ActionRenice, Metric: MetricMemAvailableKB, Value: -5, Threshold: 1 << 40,
		TsNs: 123456789012, Latency: 4321 * time.Nanosecond}
	rec := e.AppendRecord([]byte{0xAA})
	if len(rec) != 1+KernelDecisionSize || rec[0] != 0xAA {
		t.Fatalf("AppendRecord must append %d bytes, got %d", KernelDecisionSize, len(rec)-1)
	}
	var d decode.Event
	if err := decode.Decode(rec[1:], &d); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if d.Kind != decode.KindKernelDecision || d.TsNs != e.TsNs || d.PID != 0 || d.TID != 0 || d.CPU != 0 ||
		d.Flags != uint16(EventDecision) || decode.CommString(&d.Comm) != "ainka_core" {
		t.Errorf("header %+v", d)
	}
	want := record.KernelDecision{Hdr: d.KernelDecision().Hdr, RuleId: 77, Action: uint32(ActionRenice), State: uint32(StateEmergency),
		Metric: uint32(MetricMemAvailableKB), Value: -5, Threshold: 1 << 40, LatencyNs: 4321, Seq: e.Seq}
	if got := *d.KernelDecision(); got != want {
		t.Errorf("payload\n got %+v\nwant %+v", got, want)
	}
}

// TestDecisionTypesMatchRecordHeader: the AINKA_DECISION_* values that
// kernel_decision records carry in hdr.flags are the module's event types.
func TestDecisionTypesMatchRecordHeader(t *testing.T) {
	for rec, ev := range map[uint16]EventType{
		record.DecisionRule: EventDecision, record.DecisionRecovery: EventRecovery,
		record.DecisionState: EventStateChange, record.DecisionKernel: EventKernel,
		record.DecisionPredict: EventPredictionRequest,
	} {
		if uint16(ev) != rec {
			t.Errorf("event type %v = %d, AINKA_DECISION_* %d", ev, ev, rec)
		}
	}
}
