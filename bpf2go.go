// Package ainka is the root of the AINKA module. It holds no code: only
// the go:generate lines that compile the eBPF object in bpf/ with
// cilium/ebpf's bpf2go (pinned as a go.mod tool), so that `go generate
// ./...` (and `make generate`) rebuild bpf/ainka_bpfel.{go,o} (the
// programs) and bpf/record/record_bpfel.{go,o} (the record types of
// bpf/ainka_record.h, for Go), and plugins/probe/probebpf/generic_bpfel.{go,o}
// (the generic tracepoint program of declarative probe plugins) and the
// example probe plugin's object, examples/plugins/probes/proclife, and
// internal/tcpcc/tcpcc_bpfel.{go,o} (the TCP socket iterator that
// switches a namespace's open connections to another congestion control).
// scripts/check-generated.sh checks that the
// committed output matches the sources.
package ainka

// -no-strip is off: bpf2go strips DWARF but keeps BTF, which CO-RE needs.
// -mcpu=v3 for 32-bit jumps and atomic fetch; supported since 5.1.
//go:generate go tool bpf2go -go-package bpf -output-dir bpf -output-stem ainka -target bpfel -type ainka_policy -type ainka_kind_policy -type ainka_stats ainka bpf/ainka.bpf.c -- -O2 -g -Wall -Werror -mcpu=v3
//go:generate go tool bpf2go -go-package record -output-dir bpf/record -output-stem record -target bpfel -type ainka_format -type ainka_kind -type ainka_hdr_flag -type ainka_weight -type ainka_host_flag -type ainka_decision_type -type ainka_hdr -type ainka_syscall -type ainka_sched_switch -type ainka_sched_wakeup -type ainka_page_fault -type ainka_net_rx -type ainka_block_io -type ainka_host_sample -type ainka_kernel_decision -type ainka_tcp record bpf/record/record.bpf.c -- -O2 -g -Wall -Werror
//go:generate go tool bpf2go -go-package probebpf -output-dir plugins/probe/probebpf -output-stem generic -target bpfel -type ainka_probe_config -type ainka_probe_stats generic plugins/probe/probebpf/generic.bpf.c -- -O2 -g -Wall -Werror -mcpu=v3
//go:generate go tool bpf2go -go-package proclife -output-dir examples/plugins/probes/proclife -output-stem proclife -target bpfel proclife examples/plugins/probes/proclife/proclife.bpf.c -- -O2 -g -Wall -Werror -mcpu=v3
//go:generate go tool bpf2go -go-package tcpcc -output-dir internal/tcpcc -output-stem tcpcc -target bpfel tcpcc bpf/tcpcc.bpf.c -- -O2 -g -Wall -Werror -mcpu=v3
//go:generate sh scripts/check-generated.sh --stamp
