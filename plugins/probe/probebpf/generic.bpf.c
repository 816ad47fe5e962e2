//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only
/*
 * generic.bpf.c - the program behind declarative probe plugins: attached to
 * any classic tracepoint, it copies up to AINKA_PROBE_MAX_FIELDS integer
 * fields, at the offsets and sizes user space read from the tracepoint's
 * tracefs format, into a record of AINKA's header and one u64 per field
 * (sign-extended when the field is signed). One object is loaded per
 * plugin: its own ring, stats and configuration.
 */
#include "../../../bpf/vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include "../../../bpf/ainka_record.h"
#include "ainka_probe.h"

char LICENSE[] SEC("license") = "GPL";

AINKA_PROBE_GLOBALS;

/* The fields to copy, written by user space before attaching. */
struct ainka_probe_config {
	__u32 nfields;
	__u32 raw_len; /* bytes of the tracepoint record to read: max(offset + size) */
	__u16 offset[AINKA_PROBE_MAX_FIELDS];
	__u8 size[AINKA_PROBE_MAX_FIELDS];
	__u8 is_signed[AINKA_PROBE_MAX_FIELDS];
};

struct ainka_probe_record {
	struct ainka_hdr hdr;
	__u64 value[AINKA_PROBE_MAX_FIELDS];
};

_Static_assert(sizeof(struct ainka_probe_record) == 104, "ainka_probe_record");

struct scratch {
	__u8 raw[AINKA_PROBE_RAW_LEN];
	struct ainka_probe_record rec;
};

AINKA_PROBE_MAPS;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ainka_probe_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

static __always_inline __u64 field(const __u8 *raw, __u32 off, __u8 size, __u8 sign)
{
	switch (size) {
	case 1:
		return sign ? (__u64)(__s64) * (const __s8 *)(raw + off) : *(raw + off);
	case 2:
		return sign ? (__u64)(__s64) * (const __s16 *)(raw + off) : *(const __u16 *)(raw + off);
	case 4:
		return sign ? (__u64)(__s64) * (const __s32 *)(raw + off) : *(const __u32 *)(raw + off);
	default:
		return *(const __u64 *)(raw + off);
	}
}

SEC("tracepoint")
int ainka_probe_tp(void *ctx)
{
	__u32 zero = 0;
	struct ainka_probe_stats *st = bpf_map_lookup_elem(&stats, &zero);
	struct ainka_probe_config *cfg = bpf_map_lookup_elem(&config, &zero);
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!st || !cfg || !s)
		return 0;
	st->seen++;
	__u64 id = bpf_get_current_pid_tgid();
	if (ainka_probe_self_tgid && (__u32)(id >> 32) == ainka_probe_self_tgid) {
		st->filtered++;
		return 0;
	}
	__u32 n = cfg->nfields, len = cfg->raw_len;
	if (n > AINKA_PROBE_MAX_FIELDS || len > AINKA_PROBE_RAW_LEN)
		return 0;
	if (bpf_probe_read_kernel(s->raw, len, ctx))
		return 0;
	struct ainka_probe_record *r = &s->rec;
	for (__u32 i = 0; i < AINKA_PROBE_MAX_FIELDS; i++) {
		if (i >= n)
			break;
		__u32 off = cfg->offset[i];
		if (off > AINKA_PROBE_RAW_LEN - 8)
			return 0;
		r->value[i] = field(s->raw, off, cfg->size[i], cfg->is_signed[i]);
	}
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->hdr.pid = id >> 32;
	r->hdr.tid = (__u32)id;
	r->hdr.cpu = bpf_get_smp_processor_id();
	r->hdr.kind = ainka_probe_kind;
	r->hdr.flags = 0;
	bpf_get_current_comm(r->hdr.comm, sizeof(r->hdr.comm));
	/* clang reloads nfields from the map for this; the 6.1 verifier then
	 * sees an unbounded size. Hide the value from the optimiser and bound
	 * it where the call uses it. */
	__u64 size = sizeof(r->hdr) + (__u64)n * 8;
	barrier_var(size);
	if (size > sizeof(*r))
		return 0;
	st->emitted++;
	if (bpf_ringbuf_output(&events, r, size, BPF_RB_NO_WAKEUP))
		st->lost++;
	return 0;
}
