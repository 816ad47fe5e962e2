// Package proclife is an example probe plugin with its own CO-RE eBPF
// object (docs/plugins.md): plugin.toml is the manifest AINKA reads,
// proclife.bpf.c the program, and proclife_bpfel.o the object bpf2go
// builds from it (`make generate`), which AINKA loads. The Go bindings
// bpf2go writes beside it are not used: AINKA needs only the object.
package proclife
