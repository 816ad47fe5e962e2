/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ainka_probe.h - what a probe plugin's eBPF object shares with AINKA
 * (docs/plugins.md, "Probe plugins"). A plugin's records start with
 * struct ainka_hdr of bpf/ainka_record.h; its kind is the number AINKA
 * writes into ainka_probe_kind before loading.
 */
#ifndef AINKA_PROBE_H
#define AINKA_PROBE_H

enum ainka_probe_abi {
	AINKA_PROBE_ABI = 1,
	/* The generic tracepoint program copies at most this many fields. */
	AINKA_PROBE_MAX_FIELDS = 8,
	/* and reads this much of the tracepoint's record. */
	AINKA_PROBE_RAW_LEN = 256,
};

/* Per-CPU counters, one entry: seen = emitted + filtered, emitted = in
 * the ring + lost (ring full), as for the built-in kinds. */
struct ainka_probe_stats {
	__u64 seen;
	__u64 emitted;
	__u64 lost;
	__u64 filtered;
};

/* Every object declares these: AINKA checks the ABI and sets the kind and
 * its own thread-group id (records of the daemon itself are filtered). */
#define AINKA_PROBE_GLOBALS                                   \
	const volatile __u32 ainka_probe_abi = AINKA_PROBE_ABI; \
	const volatile __u16 ainka_probe_kind = 0;              \
	const volatile __u32 ainka_probe_self_tgid = 0

/* The ring (AINKA sets its size before loading) and the stats map, as the
 * manifest's [object] ring = "events", stats = "stats" name them. */
#define AINKA_PROBE_MAPS                                          \
	struct {                                                  \
		__uint(type, BPF_MAP_TYPE_RINGBUF);               \
		__uint(max_entries, 1 << 20);                     \
	} events SEC(".maps");                                    \
	struct {                                                  \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);          \
		__uint(max_entries, 1);                           \
		__type(key, __u32);                               \
		__type(value, struct ainka_probe_stats);          \
	} stats SEC(".maps")

/* Puts the record struct in the object's BTF (clang emits only types
 * something uses; a record only ever reached through a ring buffer pointer
 * is not), so that AINKA can check the manifest's [record] against it. */
#define AINKA_PROBE_RECORD(type) const volatile type ainka_probe_record_type = {}

#endif /* AINKA_PROBE_H */
