// Package decode is the pipeline's first stage: it turns raw ring-buffer
// records (the structs of bpf/ainka_record.h, byte for byte) into
// fixed-size Events, without allocating.
//
// An Event holds the common header in named fields and the kind's payload
// in a fixed union; the typed views (Syscall, SchedSwitch, ...) read and
// write that union in place. A record of an unknown kind, or whose length
// is wrong for its kind, is rejected and counted in
// ainka_decode_errors_total{reason}; it never stops the stage.
package decode
