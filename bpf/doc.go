// Package bpf holds AINKA's eBPF object (ainka.bpf.c, compiled by bpf2go
// into ainka_bpfel.o and embedded by ainka_bpfel.go) and the Go side that
// loads it, attaches its programs, writes policies_map and reads stats_map.
//
// The record layout the programs write is bpf/ainka_record.h; its Go types
// are generated into the leaf package bpf/record, which every reader and
// producer of records imports. The control and accounting maps are
// bpf/ainka_policy.h. Open loads and attaches what this kernel supports and
// reports the rest in Probe.Missing, so a caller can run without a kind and
// say why.
//
// # Adding a record kind
//
// Say udp (tcp, kind 9, was added this way). The compiler or a test
// stops each step that is left out.
//
//  1. bpf/ainka_record.h: AINKA_KIND_UDP in enum ainka_kind, just before
//     AINKA_KIND_MAX (kinds are dense, as they index policies_map and
//     stats_map, and keep their numbers, as traces store them), and struct ainka_udp (a struct ainka_hdr first, naturally
//     aligned, explicit padding, a multiple of 8 bytes), with its
//     _Static_assert in ainka.bpf.c. Bump AINKA_SCHEMA_VERSION only when an
//     existing struct changes.
//  2. bpf/record/record.bpf.c: a member of struct ainka_record_types, and
//     -type ainka_udp on the record line of bpf2go.go; then `make generate`
//     and commit bpf/ and bpf/record/ (scripts/check-generated.sh, run in CI,
//     fails otherwise).
//  3. bpf/record: the UDP alias and the Record constraint (record.go);
//     KindUDP, NumKinds, its name and size (kind.go); its row in
//     layout_test.go. TestKinds fails until the name and size agree with the
//     enum and the struct.
//  4. stages/decode: the payload view, its accessor and its row in
//     layout_test.go (TestEventMatchesRecords); the union Event.p grows if
//     the record is larger than MaxRecordSize. json.go names its fields for
//     taps; aggregate and features decide what the kind means.
//  5. If the eBPF programs produce it: the program in ainka.bpf.c, its
//     tracepoints in programs and the kind in ProbeKinds (probe.go).
//
// Regenerate with `go generate ./...` at the module root; see docs/bpf.md.
package bpf
