// Package probebpf holds the eBPF side of probe plugins: ainka_probe.h,
// the contract a plugin's own object shares with AINKA (the ABI version,
// the per-CPU stats struct, the globals AINKA sets), and generic.bpf.c,
// the program that serves declarative plugins by copying a tracepoint's
// integer fields into a record. bpf2go (../../../bpf2go.go) compiles it
// into generic_bpfel.{go,o}; scripts/check-generated.sh checks them.
package probebpf
