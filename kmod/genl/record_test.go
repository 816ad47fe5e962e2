package genl

import (
	"encoding/binary"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

type cField struct {
	name      string
	off, size int
}

// cStruct lays out a struct of bpf/ainka_record.h with natural alignment.
func cStruct(t *testing.T, src, name string, nested map[string][]cField) ([]cField, int) {
	t.Helper()
	re := regexp.MustCompile(`(?s)struct ` + name + ` \{(.*?)\};`)
	m := re.FindStringSubmatch(src)
	if m == nil {
		t.Fatalf("struct %s not found in ainka_record.h", name)
	}
	sizes := map[string]int{"__u64": 8, "__s64": 8, "__u32": 4, "__s32": 4, "__u16": 2, "__s16": 2}
	var fields []cField
	off := 0
	fieldRe := regexp.MustCompile(`^\s*(struct \w+|\w+)\s+(\w+)(\[\w+\])?;`)
	for _, line := range strings.Split(m[1], "\n") {
		f := fieldRe.FindStringSubmatch(line)
		if f == nil {
			continue
		}
		switch {
		case strings.HasPrefix(f[1], "struct "):
			sub := nested[strings.TrimPrefix(f[1], "struct ")]
			last := sub[len(sub)-1]
			size := last.off + last.size
			off = (off + 7) &^ 7
			for _, s := range sub {
				fields = append(fields, cField{f[2] + "." + s.name, off + s.off, s.size})
			}
			off += size
		case f[1] == "char":
			fields = append(fields, cField{f[2], off, 16}) // AINKA_COMM_LEN
			off += 16
		default:
			sz, ok := sizes[f[1]]
			if !ok {
				t.Fatalf("struct %s: unknown type %s", name, f[1])
			}
			off = (off + sz - 1) &^ (sz - 1)
			fields = append(fields, cField{f[2], off, sz})
			off += sz
		}
	}
	return fields, (off + 7) &^ 7
}

func TestAppendRecordMatchesRecordHeader(t *testing.T) {
	src, err := os.ReadFile("../../bpf/ainka_record.h")
	if err != nil {
		skipInVM(t, err)
		t.Fatalf("read header: %v", err)
	}
	hdr, _ := cStruct(t, string(src), "ainka_hdr", nil)
	fields, size := cStruct(t, string(src), "ainka_kernel_decision", map[string][]cField{"ainka_hdr": hdr})
	if size != KernelDecisionSize {
		t.Fatalf("struct ainka_kernel_decision is %d bytes, AppendRecord writes %d", size, KernelDecisionSize)
	}
	e := Event{Type: EventDecision, Seq: 0x0102030405060708, State: StateEmergency, RuleID: 77,
		Action: ActionRenice, Metric: MetricMemAvailableKB, Value: -5, Threshold: 1 << 40,
		TsNs: 123456789012, Latency: 4321 * time.Nanosecond}
	prefix := []byte{0xAA}
	rec := e.AppendRecord(prefix)
	if len(rec) != 1+KernelDecisionSize || rec[0] != 0xAA {
		t.Fatalf("AppendRecord must append %d bytes, got %d", KernelDecisionSize, len(rec)-1)
	}
	rec = rec[1:]
	want := map[string]uint64{
		"hdr.ts_ns": e.TsNs, "hdr.pid": 0, "hdr.tid": 0, "hdr.cpu": 0, "hdr.kind": kindKernelDecision,
		"hdr.flags": uint64(EventDecision), "rule_id": 77, "action": uint64(ActionRenice), "state": uint64(StateEmergency),
		"metric": uint64(MetricMemAvailableKB), "value": uint64(0xFFFFFFFFFFFFFFFB), "threshold": 1 << 40,
		"latency_ns": 4321, "seq": e.Seq,
	}
	le := binary.LittleEndian
	for _, f := range fields {
		var got uint64
		switch f.size {
		case 2:
			got = uint64(le.Uint16(rec[f.off:]))
		case 4:
			got = uint64(le.Uint32(rec[f.off:]))
		case 8:
			got = le.Uint64(rec[f.off:])
		case 16:
			if s := strings.TrimRight(string(rec[f.off:f.off+16]), "\x00"); s != recordComm {
				t.Errorf("%s = %q, want %q", f.name, s, recordComm)
			}
			continue
		}
		w, ok := want[f.name]
		if !ok {
			t.Errorf("field %s of the C struct is not covered by this test", f.name)
			continue
		}
		if got != w {
			t.Errorf("%s at offset %d = %#x, want %#x", f.name, f.off, got, w)
		}
	}
}

// TestDecisionTypesMatchRecordHeader: the AINKA_DECISION_* values that
// kernel_decision records carry in hdr.flags are the module's event types.
func TestDecisionTypesMatchRecordHeader(t *testing.T) {
	src, err := os.ReadFile("../../bpf/ainka_record.h")
	if err != nil {
		skipInVM(t, err)
		t.Fatalf("read header: %v", err)
	}
	want := map[string]EventType{
		"AINKA_DECISION_RULE": EventDecision, "AINKA_DECISION_RECOVERY": EventRecovery,
		"AINKA_DECISION_STATE": EventStateChange, "AINKA_DECISION_KERNEL": EventKernel,
		"AINKA_DECISION_PREDICT": EventPredictionRequest,
	}
	for name, v := range want {
		var got int
		found := false
		for _, line := range strings.Split(string(src), "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[0] == "#define" && f[1] == name {
				if _, err := fmt.Sscan(f[2], &got); err == nil {
					found = true
				}
			}
		}
		if !found || got != int(v) {
			t.Errorf("%s = %d (found %v), want %d", name, got, found, v)
		}
	}
}
