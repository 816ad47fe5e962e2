package decode

// AppendRecord appends e in the wire format of bpf/ainka_record.h: what
// tests and benchmarks use to build records. The bytes are e's memory (see
// Event), RecordSize(e.Kind) of them, or a header alone for an unknown kind.
func (e *Event) AppendRecord(dst []byte) []byte {
	n := RecordSize(e.Kind)
	if n == 0 {
		n = HeaderSize
	}
	return append(dst, e.wire()[:n]...)
}
