package decode

import (
	"bytes"
	"reflect"
	"testing"
	"unsafe"

	"github.com/ainka/ainka/bpf/record"
)

// sized returns a struct type's fields that take memory (not
// structs.HostLayout).
func sized(typ reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range typ.NumField() {
		if f := typ.Field(i); f.Type.Size() > 0 {
			out = append(out, f)
		}
	}
	return out
}

// sameLayout checks that view's fields sit where rec's fields do, minus
// skip bytes (the header), size for size, in order; rec's first skipFields
// fields are left out.
func sameLayout(t *testing.T, view, rec reflect.Type, skipFields int, skip uintptr) {
	t.Helper()
	v, r := sized(view), sized(rec)[skipFields:]
	if len(v) != len(r) || view.Size() != rec.Size()-skip {
		t.Fatalf("%v (%d fields, %d bytes) vs %v (%d fields, %d bytes after %d)",
			view, len(v), view.Size(), rec, len(r), rec.Size()-skip, skip)
	}
	for i := range v {
		if v[i].Offset != r[i].Offset-skip || v[i].Type.Size() != r[i].Type.Size() {
			t.Errorf("%v.%s at %d (%d bytes), %v.%s at %d (%d bytes)", view, v[i].Name, v[i].Offset,
				v[i].Type.Size(), rec, r[i].Name, r[i].Offset-skip, r[i].Type.Size())
		}
	}
}

// views pairs each kind's payload view with its generated record struct
// (which bpf/record's TestLayout checks against the object's BTF).
var views = []struct {
	kind      Kind
	view, rec any
	viewOf    func(*Event) any
}{
	{KindSyscall, Syscall{}, record.Syscall{}, func(e *Event) any { return e.Syscall() }},
	{KindSchedSwitch, SchedSwitch{}, record.SchedSwitch{}, func(e *Event) any { return e.SchedSwitch() }},
	{KindSchedWakeup, SchedWakeup{}, record.SchedWakeup{}, func(e *Event) any { return e.SchedWakeup() }},
	{KindPageFault, PageFault{}, record.PageFault{}, func(e *Event) any { return e.PageFault() }},
	{KindNetRx, NetRx{}, record.NetRx{}, func(e *Event) any { return e.NetRx() }},
	{KindBlockIO, BlockIO{}, record.BlockIO{}, func(e *Event) any { return e.BlockIO() }},
	{KindHostSample, HostSample{}, record.HostSample{}, func(e *Event) any { return e.HostSample() }},
	{KindKernelDecision, KernelDecision{}, record.KernelDecision{}, func(e *Event) any { return e.KernelDecision() }},
}

// TestEventMatchesRecords: Event's header fields are record.Header's, its
// payload starts where a record's does, and each view is its record struct
// after the header. Decode and AppendRecord copy memory on the strength of it.
func TestEventMatchesRecords(t *testing.T) {
	hdr := reflect.TypeOf(record.Header{})
	ev := reflect.TypeOf(Event{})
	evHdr := sized(ev)[:len(sized(hdr))]
	for i, f := range sized(hdr) {
		if evHdr[i].Offset != f.Offset || evHdr[i].Type.Size() != f.Type.Size() {
			t.Errorf("Event.%s at %d, record.Header.%s at %d", evHdr[i].Name, evHdr[i].Offset, f.Name, f.Offset)
		}
	}
	if off := unsafe.Offsetof(Event{}.p); off != hdr.Size() {
		t.Errorf("payload at %d, header is %d bytes", off, hdr.Size())
	}
	seen := map[Kind]bool{}
	for _, v := range views {
		seen[v.kind] = true
		sameLayout(t, reflect.TypeOf(v.view), reflect.TypeOf(v.rec), 1, hdr.Size())
		if RecordSize(v.kind) != int(reflect.TypeOf(v.rec).Size()) {
			t.Errorf("%v: RecordSize %d, record struct %d", v.kind, RecordSize(v.kind), reflect.TypeOf(v.rec).Size())
		}
	}
	for k := Kind(1); k < NumKinds; k++ {
		if !seen[k] {
			t.Errorf("kind %v has no view in this test", k)
		}
	}
}

// TestDecodeGeneratedRecords builds each record with the generated type,
// every field a distinct value, and checks that the decoded view holds the
// same values field for field and that AppendRecord gives the bytes back.
func TestDecodeGeneratedRecords(t *testing.T) {
	for _, v := range views {
		r := reflect.New(reflect.TypeOf(v.rec))
		hdr := r.Elem().FieldByName("Hdr")
		hdr.FieldByName("Kind").SetUint(uint64(v.kind))
		hdr.FieldByName("TsNs").SetUint(1 << 40)
		hdr.FieldByName("Pid").SetUint(4242)
		fill(r.Elem(), 1)
		raw := appendGenerated(r.Interface())
		var e Event
		if err := Decode(raw, &e); err != nil {
			t.Fatalf("%v: %v", v.kind, err)
		}
		if e.Kind != v.kind || e.TsNs != 1<<40 || e.PID != 4242 {
			t.Errorf("%v: header decoded as %+v", v.kind, e)
		}
		got, want := sized(reflect.TypeOf(v.view)), sized(reflect.TypeOf(v.rec))[1:]
		gv := reflect.ValueOf(v.viewOf(&e)).Elem()
		for i := range got {
			if g, w := asBytes(gv, got[i]), asBytes(r.Elem(), want[i]); !bytes.Equal(g, w) {
				t.Errorf("%v: %s = % x, record.%s = % x", v.kind, got[i].Name, g, want[i].Name, w)
			}
		}
		if back := e.AppendRecord(nil); !bytes.Equal(back, raw) {
			t.Errorf("%v: AppendRecord\n% x\nwant\n% x", v.kind, back, raw)
		}
	}
}

// fill gives the payload fields (not the header) distinct non-zero values.
func fill(v reflect.Value, seed int) {
	for i := 1; i < v.NumField(); i++ {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		seed++
		switch f.Kind() {
		case reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(seed) * 0x0101)
		case reflect.Int32, reflect.Int64:
			f.SetInt(-int64(seed))
		case reflect.Array:
			for j := range f.Len() - 1 {
				f.Index(j).SetInt(int64('a' + j))
			}
		}
	}
}

// asBytes returns the memory of field f of the addressable struct v
// (padding included, which reflect cannot read as a value).
func asBytes(v reflect.Value, f reflect.StructField) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(v.Addr().UnsafePointer(), f.Offset)), f.Type.Size())
}

func appendGenerated(r any) []byte {
	switch r := r.(type) {
	case *record.Syscall:
		return record.Append(nil, r)
	case *record.SchedSwitch:
		return record.Append(nil, r)
	case *record.SchedWakeup:
		return record.Append(nil, r)
	case *record.PageFault:
		return record.Append(nil, r)
	case *record.NetRx:
		return record.Append(nil, r)
	case *record.BlockIO:
		return record.Append(nil, r)
	case *record.HostSample:
		return record.Append(nil, r)
	case *record.KernelDecision:
		return record.Append(nil, r)
	}
	panic("not a record type")
}
