package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// objectTypes returns the BTF of the embedded object that bpf2go generated
// the Go types from.
func objectTypes(t *testing.T) *btf.Spec {
	t.Helper()
	spec, err := loadRecord()
	if err != nil {
		t.Fatalf("load embedded object: %v", err)
	}
	return spec.Types
}

// records are the Go types and the C structs they must lay out like.
var records = []struct {
	c string
	v any
}{
	{"ainka_hdr", Header{}},
	{"ainka_syscall", Syscall{}},
	{"ainka_sched_switch", SchedSwitch{}},
	{"ainka_sched_wakeup", SchedWakeup{}},
	{"ainka_page_fault", PageFault{}},
	{"ainka_net_rx", NetRx{}},
	{"ainka_block_io", BlockIO{}},
	{"ainka_host_sample", HostSample{}},
	{"ainka_kernel_decision", KernelDecision{}},
	{"ainka_tcp", TCP{}},
}

// goName is bpf2go's spelling of a C member name: snake_case to CamelCase.
func goName(c string) string {
	var b strings.Builder
	for _, part := range strings.Split(c, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// checkStruct compares a Go struct type with a BTF struct: same size, and
// every C member is a Go field of the same name, offset and size, in order.
// Go fields of size 0 (structs.HostLayout) are skipped.
func checkStruct(t *testing.T, typ reflect.Type, s *btf.Struct, base uint32) {
	t.Helper()
	if uint32(typ.Size()) != s.Size {
		t.Errorf("%s: Go %s is %d bytes, C %d", s.Name, typ, typ.Size(), s.Size)
	}
	var fields []reflect.StructField
	for i := range typ.NumField() {
		if f := typ.Field(i); f.Type.Size() > 0 {
			fields = append(fields, f)
		}
	}
	if len(fields) != len(s.Members) {
		t.Fatalf("%s: %d Go fields, %d C members", s.Name, len(fields), len(s.Members))
	}
	for i, m := range s.Members {
		f := fields[i]
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			t.Fatalf("%s.%s: %v", s.Name, m.Name, err)
		}
		if f.Name != goName(m.Name) || uint32(f.Offset) != m.Offset.Bytes() || int(f.Type.Size()) != size {
			t.Errorf("%s.%s at %d (%d bytes): Go field %s at %d (%d bytes)",
				s.Name, m.Name, base+m.Offset.Bytes(), size, f.Name, base+uint32(f.Offset), f.Type.Size())
		}
		if inner, ok := btf.UnderlyingType(m.Type).(*btf.Struct); ok && f.Type.Kind() == reflect.Struct {
			checkStruct(t, f.Type, inner, base+m.Offset.Bytes())
		}
	}
}

func TestLayout(t *testing.T) {
	types := objectTypes(t)
	for _, r := range records {
		var s *btf.Struct
		if err := types.TypeByName(r.c, &s); err != nil {
			t.Fatalf("struct %s in the object's BTF: %v", r.c, err)
		}
		checkStruct(t, reflect.TypeOf(r.v), s, 0)
	}
}

// member is one integer member of a record, flattened: its offset in the
// record, its size and the Go field that holds it.
type member struct {
	name      string
	off, size uint32
	field     reflect.Value
}

// members flattens s (recursing into the header) alongside the Go value v.
func members(t *testing.T, v reflect.Value, s *btf.Struct, base uint32) []member {
	t.Helper()
	var out []member
	for _, m := range s.Members {
		f := v.FieldByName(goName(m.Name))
		if !f.IsValid() {
			t.Fatalf("%s.%s: no Go field %s in %s", s.Name, m.Name, goName(m.Name), v.Type())
		}
		if inner, ok := btf.UnderlyingType(m.Type).(*btf.Struct); ok {
			out = append(out, members(t, f, inner, base+m.Offset.Bytes())...)
			continue
		}
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			t.Fatalf("%s.%s: %v", s.Name, m.Name, err)
		}
		out = append(out, member{s.Name + "." + m.Name, base + m.Offset.Bytes(), uint32(size), f})
	}
	return out
}

// TestAppend gives every member of each record a distinct value through
// the Go field of its name and reads it back from Append's bytes at the
// member's BTF offset, little-endian.
func TestAppend(t *testing.T) {
	types := objectTypes(t)
	for _, r := range records[1:] {
		var s *btf.Struct
		if err := types.TypeByName(r.c, &s); err != nil {
			t.Fatalf("struct %s: %v", r.c, err)
		}
		v := reflect.New(reflect.TypeOf(r.v))
		ms := members(t, v.Elem(), s, 0)
		for i, m := range ms {
			b := byte(i + 1)
			switch m.field.Kind() {
			case reflect.Array: // comm: bytes b, b+1, ...
				for j := range m.field.Len() {
					m.field.Index(j).SetUint(uint64(b) + uint64(j))
				}
			case reflect.Int32, reflect.Int64:
				m.field.SetInt(-int64(b)) // sign bits fill the whole member
			default:
				m.field.SetUint(uint64(b) << (8 * (m.size - 1))) // top byte
			}
		}
		rec := appendAny(v.Interface(), []byte{0xAA})
		if len(rec) != int(s.Size)+1 || rec[0] != 0xAA {
			t.Fatalf("%s: Append wrote %d bytes after the prefix, want %d", r.c, len(rec)-1, s.Size)
		}
		rec = rec[1:]
		for i, m := range ms {
			got := rec[m.off : m.off+m.size]
			want := make([]byte, m.size)
			b := byte(i + 1)
			switch m.field.Kind() {
			case reflect.Array:
				for j := range want {
					want[j] = b + byte(j)
				}
			case reflect.Int32, reflect.Int64:
				var w [8]byte
				binary.LittleEndian.PutUint64(w[:], uint64(-int64(b)))
				copy(want, w[:])
			default:
				want[m.size-1] = b
			}
			if string(got) != string(want) {
				t.Errorf("%s at %d: bytes % x, want % x", m.name, m.off, got, want)
			}
		}
	}
}

func appendAny(r any, dst []byte) []byte {
	switch r := r.(type) {
	case *Syscall:
		return Append(dst, r)
	case *SchedSwitch:
		return Append(dst, r)
	case *SchedWakeup:
		return Append(dst, r)
	case *PageFault:
		return Append(dst, r)
	case *NetRx:
		return Append(dst, r)
	case *BlockIO:
		return Append(dst, r)
	case *HostSample:
		return Append(dst, r)
	case *KernelDecision:
		return Append(dst, r)
	case *TCP:
		return Append(dst, r)
	}
	panic(fmt.Sprintf("no Append for %T", r))
}

// enumValues returns an enum's values by name from the object's BTF.
func enumValues(t *testing.T, types *btf.Spec, name string) map[string]uint64 {
	t.Helper()
	var e *btf.Enum
	if err := types.TypeByName(name, &e); err != nil {
		t.Fatalf("enum %s in the object's BTF: %v", name, err)
	}
	out := map[string]uint64{}
	for _, v := range e.Values {
		out[v.Name] = v.Value
	}
	return out
}

// TestKinds: every value of enum ainka_kind is a Kind whose name is the
// enumerator's (AINKA_KIND_SCHED_SWITCH is "sched_switch") and whose record
// size is that of struct ainka_<name>; every Kind is in the enum.
func TestKinds(t *testing.T) {
	types := objectTypes(t)
	values := enumValues(t, types, "ainka_kind")
	seen := map[Kind]bool{}
	for name, v := range values {
		if name == "AINKA_KIND_NONE" || name == "AINKA_KIND_MAX" {
			continue
		}
		k := Kind(v)
		seen[k] = true
		want := strings.ToLower(strings.TrimPrefix(name, "AINKA_KIND_"))
		if k.String() != want || !k.Valid() {
			t.Errorf("%s = %d: Kind %d is %q (valid %v), want %q", name, v, v, k, k.Valid(), want)
			continue
		}
		var s *btf.Struct
		if err := types.TypeByName("ainka_"+want, &s); err != nil {
			t.Errorf("%s: no struct ainka_%s: %v", name, want, err)
		} else if k.RecordSize() != int(s.Size) {
			t.Errorf("%s: RecordSize %d, sizeof(struct ainka_%s) = %d", name, k.RecordSize(), want, s.Size)
		}
		if got, err := ParseKind(strings.ToUpper(want)); got != k || err != nil {
			t.Errorf("ParseKind(%q) = %v, %v", strings.ToUpper(want), got, err)
		}
	}
	if values["AINKA_KIND_MAX"] != NumKinds || values["AINKA_KIND_NONE"] != 0 {
		t.Errorf("AINKA_KIND_MAX %d, NumKinds %d", values["AINKA_KIND_MAX"], NumKinds)
	}
	for k := Kind(1); k < NumKinds; k++ {
		if !seen[k] {
			t.Errorf("Kind %d (%s) is not in enum ainka_kind", k, k)
		}
	}
	if _, err := ParseKind("bogus"); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("ParseKind(bogus): %v, want ErrUnknownKind", err)
	}
	if k := Kind(NumKinds); k.Valid() || k.RecordSize() != 0 || k.String() != fmt.Sprintf("kind(%d)", NumKinds) {
		t.Errorf("Kind(NumKinds): valid %v, size %d, %q", k.Valid(), k.RecordSize(), k)
	}
}

// TestConstants: each enum of the header, value for value, against the Go
// constants; an enumerator without a Go constant fails.
func TestConstants(t *testing.T) {
	types := objectTypes(t)
	for enum, want := range map[string]map[string]uint64{
		"ainka_format": {"AINKA_SCHEMA_VERSION": uint64(SchemaVersion), "AINKA_COMM_LEN": uint64(CommLen)},
		"ainka_hdr_flag": {"AINKA_F_FAULT_USER": uint64(FlagFaultUser), "AINKA_F_WAKEUP_NEW": uint64(FlagWakeupNew),
			"AINKA_F_PREV_IDLE": uint64(FlagPrevIdle), "AINKA_F_NEXT_IDLE": uint64(FlagNextIdle),
			"AINKA_F_TCP_RETRANS": uint64(FlagTCPRetrans)},
		"ainka_weight": {"AINKA_WEIGHT_SHIFT": uint64(WeightShift), "AINKA_WEIGHT_MASK": uint64(WeightMask),
			"AINKA_WEIGHT_MAX_LOG2": uint64(WeightMaxLog2)},
		"ainka_host_flag": {"AINKA_HOST_HAVE_PSI": uint64(HostHavePSI), "AINKA_HOST_HAVE_MEM": uint64(HostHaveMem),
			"AINKA_HOST_HAVE_STAT": uint64(HostHaveStat)},
		"ainka_decision_type": {"AINKA_DECISION_RULE": uint64(DecisionRule), "AINKA_DECISION_RECOVERY": uint64(DecisionRecovery),
			"AINKA_DECISION_STATE": uint64(DecisionState), "AINKA_DECISION_KERNEL": uint64(DecisionKernel),
			"AINKA_DECISION_PREDICT": uint64(DecisionPredict)},
	} {
		got := enumValues(t, types, enum)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("enum %s = %v, Go constants %v", enum, got, want)
		}
	}
}

func TestRecordKindAndComm(t *testing.T) {
	h := HostSample{Hdr: Header{Kind: uint16(KindHostSample)}}
	SetComm(&h.Hdr.Comm, "a-name-longer-than-comm")
	rec := Append(nil, &h)
	if RecordKind(rec) != KindHostSample || RecordKind(rec[:HeaderSize-1]) != 0 {
		t.Errorf("RecordKind = %v, of a short record %v", RecordKind(rec), RecordKind(rec[:HeaderSize-1]))
	}
	if c := string(h.Hdr.Comm[:]); c != "a-name-longer-t\x00" || CommString(&h.Hdr.Comm) != "a-name-longer-t" {
		t.Errorf("comm %q: want truncated to 15 bytes and NUL", c)
	}
}

// TestWeight: the weight bits of hdr.flags, next to the other flags.
func TestWeight(t *testing.T) {
	for _, c := range []struct {
		flags uint16
		want  uint64
	}{
		{0, 1}, {FlagFaultUser, 1}, {3 << WeightShift, 8}, {FlagWakeupNew | 5<<WeightShift, 32},
		{WeightMaxLog2 << WeightShift, 1 << 15}, {0xffff, 1 << 15},
	} {
		if got := Weight(c.flags); got != c.want {
			t.Errorf("Weight(%#x) = %d, want %d", c.flags, got, c.want)
		}
	}
	if WeightMask&(FlagFaultUser|FlagWakeupNew|FlagPrevIdle|FlagNextIdle) != 0 {
		t.Errorf("weight mask %#x overlaps the flags", WeightMask)
	}
}
