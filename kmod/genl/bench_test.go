package genl

import (
	"testing"
	"time"
)

// The pipeline turns every announced decision into a record: this must
// not allocate when the caller reuses its buffer.
func BenchmarkAppendRecord(b *testing.B) {
	e := Event{Type: EventDecision, Seq: 1, State: StateEmergency, RuleID: 3, Action: ActionNotify,
		Metric: MetricMemAvailableKB, Value: 100, Threshold: 200, TsNs: 1e12, Latency: time.Microsecond}
	buf := make([]byte, 0, KernelDecisionSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendRecord(buf[:0])
	}
	if len(buf) != KernelDecisionSize {
		b.Fatalf("record of %d bytes", len(buf))
	}
}

func TestAppendRecordDoesNotAllocate(t *testing.T) {
	e := Event{Type: EventDecision, RuleID: 3}
	buf := make([]byte, 0, KernelDecisionSize)
	if n := testing.AllocsPerRun(100, func() { buf = e.AppendRecord(buf[:0]) }); n != 0 {
		t.Fatalf("AppendRecord allocates %.0f times per call into a large enough buffer", n)
	}
}

func BenchmarkParseEvent(b *testing.B) {
	msg := []byte{cmdEvent, Version, 0, 0}
	for _, a := range [][]byte{
		attrBytes(attrEventType, le32(uint32(EventDecision))), attrBytes(attrEventSeq, le64(7)),
		attrBytes(attrState, le32(5)), attrBytes(attrPolicyID, le32(3)), attrBytes(attrEventTsNs, le64(1e12)),
		attrBytes(attrEventLatencyNs, le64(1000)), attrBytes(attrEventValue, le64(-5)),
	} {
		msg = append(msg, a...)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEvent(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func attrBytes(typ uint16, data []byte) []byte { return enc([]rawAttr{{typ: typ, data: data}}) }
