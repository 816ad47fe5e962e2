//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * record.bpf.c - no programs: an object whose BTF holds every type of
 * ../ainka_record.h, so that bpf2go -type generates their Go declarations
 * (record_bpfel.go) and the layout test can read their sizes and offsets
 * from the same object (record_bpfel.o).
 *
 * clang emits BTF only for types that something uses; this unused pointer
 * uses them all. A new record struct or enum goes here and in the -type list
 * of the go:generate line in ../../bpf2go.go.
 */
#include "../vmlinux_min.h"
#include "../ainka_record.h"

struct ainka_record_types {
	enum ainka_format format;
	enum ainka_kind kind;
	enum ainka_hdr_flag hdr_flag;
	enum ainka_weight weight;
	enum ainka_host_flag host_flag;
	enum ainka_decision_type decision_type;
	struct ainka_syscall syscall;
	struct ainka_sched_switch sched_switch;
	struct ainka_sched_wakeup sched_wakeup;
	struct ainka_page_fault page_fault;
	struct ainka_net_rx net_rx;
	struct ainka_block_io block_io;
	struct ainka_host_sample host_sample;
	struct ainka_kernel_decision kernel_decision;
	struct ainka_tcp tcp;
};

const struct ainka_record_types *ainka_record_types __attribute__((unused));
