// Package bpf holds AINKA's eBPF object (ainka.bpf.c, compiled by bpf2go
// into ainka_bpfel.o and embedded by ainka_bpfel.go) and the Go side that
// loads it, attaches its programs, writes policies_map and reads stats_map.
//
// The record layout the programs write is bpf/ainka_record.h; the control
// and accounting maps are bpf/ainka_policy.h. Open loads and attaches what
// this kernel supports and reports the rest in Probe.Missing, so a caller can
// run without a kind and say why.
//
// Regenerate with `go generate ./...` at the module root; see docs/bpf.md.
package bpf
