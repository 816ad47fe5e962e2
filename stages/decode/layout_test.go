package decode

import (
	"bytes"
	"reflect"
	"testing"
	"unsafe"

	"github.com/ainka/ainka/bpf/record"
)

// views pairs each kind with its generated record struct and its view.
var views = []struct {
	kind   Kind
	rec    any
	viewOf func(*Event) any
}{
	{KindSyscall, record.Syscall{}, func(e *Event) any { return e.Syscall() }},
	{KindSchedSwitch, record.SchedSwitch{}, func(e *Event) any { return e.SchedSwitch() }},
	{KindSchedWakeup, record.SchedWakeup{}, func(e *Event) any { return e.SchedWakeup() }},
	{KindPageFault, record.PageFault{}, func(e *Event) any { return e.PageFault() }},
	{KindNetRx, record.NetRx{}, func(e *Event) any { return e.NetRx() }},
	{KindBlockIO, record.BlockIO{}, func(e *Event) any { return e.BlockIO() }},
	{KindHostSample, record.HostSample{}, func(e *Event) any { return e.HostSample() }},
	{KindKernelDecision, record.KernelDecision{}, func(e *Event) any { return e.KernelDecision() }},
	{KindTCP, record.TCP{}, func(e *Event) any { return e.TCP() }},
}

// TestEventMatchesRecords: Event's header fields are record.Header's, name
// for name (Go spelling aside), offset and size; its payload starts where a
// record's does; every record fits. Decode, AppendRecord and the views rely
// on it.
func TestEventMatchesRecords(t *testing.T) {
	hdr, ev := reflect.TypeOf(record.Header{}), reflect.TypeOf(Event{})
	n := 0
	for i := range hdr.NumField() {
		f := hdr.Field(i)
		if f.Type.Size() == 0 { // structs.HostLayout
			continue
		}
		e := ev.Field(n)
		n++
		if e.Offset != f.Offset || e.Type.Size() != f.Type.Size() || !equalFold(e.Name, f.Name) {
			t.Errorf("Event.%s at %d (%d bytes), record.Header.%s at %d (%d bytes)",
				e.Name, e.Offset, e.Type.Size(), f.Name, f.Offset, f.Type.Size())
		}
	}
	if off := unsafe.Offsetof(Event{}.p); off != hdr.Size() || ev.Field(n).Name != "p" {
		t.Errorf("payload %s at %d, header is %d bytes", ev.Field(n).Name, off, hdr.Size())
	}
	seen := map[Kind]bool{}
	for _, v := range views {
		seen[v.kind] = true
		size := reflect.TypeOf(v.rec).Size()
		if RecordSize(v.kind) != int(size) || size > ev.Size() {
			t.Errorf("%v: RecordSize %d, record struct %d, Event %d", v.kind, RecordSize(v.kind), size, ev.Size())
		}
	}
	for k := Kind(1); k < NumKinds; k++ {
		if !seen[k] {
			t.Errorf("kind %v has no view in this test", k)
		}
	}
}

func equalFold(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

// TestDecodeGeneratedRecords builds each record with the generated type,
// every field a distinct value, and checks that the decoded event's view is
// that record and that AppendRecord gives its bytes back.
func TestDecodeGeneratedRecords(t *testing.T) {
	for _, v := range views {
		r := reflect.New(reflect.TypeOf(v.rec))
		fill(r.Elem(), 1)
		r.Elem().FieldByName("Hdr").FieldByName("Kind").SetUint(uint64(v.kind))
		raw := unsafe.Slice((*byte)(r.UnsafePointer()), r.Elem().Type().Size())
		var e Event
		if err := Decode(raw, &e); err != nil {
			t.Fatalf("%v: %v", v.kind, err)
		}
		if got := reflect.ValueOf(v.viewOf(&e)).Elem().Interface(); got != r.Elem().Interface() {
			t.Errorf("%v: view\n%+v\nwant\n%+v", v.kind, got, r.Elem().Interface())
		}
		if e.Kind != v.kind || e.PID != uint32(r.Elem().FieldByName("Hdr").FieldByName("Pid").Uint()) {
			t.Errorf("%v: header decoded as %+v", v.kind, e)
		}
		if back := e.AppendRecord(nil); !bytes.Equal(back, raw) {
			t.Errorf("%v: AppendRecord\n% x\nwant\n% x", v.kind, back, raw)
		}
	}
}

// fill gives every settable field of v (recursively) a distinct value.
func fill(v reflect.Value, seed int) int {
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		seed++
		switch f.Kind() {
		case reflect.Struct:
			seed = fill(f, seed)
		case reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(seed) * 0x0101)
		case reflect.Int32, reflect.Int64:
			f.SetInt(-int64(seed))
		case reflect.Array:
			for j := range f.Len() - 1 {
				f.Index(j).SetUint(uint64('a' + j))
			}
		}
	}
	return seed
}
