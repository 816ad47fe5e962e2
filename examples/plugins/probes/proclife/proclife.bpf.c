//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only
/*
 * proclife.bpf.c - an example probe plugin with an eBPF object of its own
 * (docs/plugins.md): one record per process that exits, with how long it
 * lived and its exit code. The task's fields are read through CO-RE
 * relocations, so the object built once loads on every kernel with BTF.
 */
#include "../../../../bpf/vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "../../../../bpf/ainka_record.h"
#include "../../../../plugins/probe/probebpf/ainka_probe.h"

char LICENSE[] SEC("license") = "GPL";

AINKA_PROBE_GLOBALS;

/* Only the fields read here; their offsets come from the running kernel's
 * BTF at load time. */
struct task_struct___proclife {
	int pid;
	int tgid;
	int exit_code;
	__u64 start_time; /* ktime_get_ns() at fork */
} __attribute__((preserve_access_index));

/* The record: AINKA's header, then the payload the manifest describes. */
struct proclife_record {
	struct ainka_hdr hdr;
	__u64 lifetime_ns;
	__s32 exit_code;
	__u32 exit_signal; /* exit_code & 0x7f: the signal that killed it, 0 if none */
};

_Static_assert(sizeof(struct proclife_record) == 56, "proclife_record");
AINKA_PROBE_RECORD(struct proclife_record);

AINKA_PROBE_MAPS;

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proclife_exit, struct task_struct *task)
{
	struct task_struct___proclife *t = (void *)task;
	__u32 zero = 0;
	struct ainka_probe_stats *st = bpf_map_lookup_elem(&stats, &zero);
	if (!st)
		return 0;
	/* A thread's exit is not a process's. */
	if (BPF_CORE_READ(t, pid) != BPF_CORE_READ(t, tgid))
		return 0;
	st->seen++;
	__u32 tgid = BPF_CORE_READ(t, tgid);
	if (ainka_probe_self_tgid && tgid == ainka_probe_self_tgid) {
		st->filtered++;
		return 0;
	}
	st->emitted++;
	struct proclife_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		st->lost++;
		return 0;
	}
	__u64 now = bpf_ktime_get_ns();
	__u64 start = BPF_CORE_READ(t, start_time);
	int code = BPF_CORE_READ(t, exit_code);
	r->hdr.ts_ns = now;
	r->hdr.pid = tgid;
	r->hdr.tid = tgid;
	r->hdr.cpu = bpf_get_smp_processor_id();
	r->hdr.kind = ainka_probe_kind;
	r->hdr.flags = 0;
	bpf_get_current_comm(r->hdr.comm, sizeof(r->hdr.comm));
	r->lifetime_ns = now > start ? now - start : 0;
	r->exit_code = code;
	r->exit_signal = code & 0x7f;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}
