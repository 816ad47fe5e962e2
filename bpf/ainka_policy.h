/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ainka_policy.h - the control and accounting maps shared between the eBPF
 * programs and the live source (stages/source). The Go views are generated
 * by bpf2go (-type ainka_policy -type ainka_stats); keep fields naturally
 * aligned with explicit padding.
 */
#ifndef AINKA_POLICY_H
#define AINKA_POLICY_H

#include "ainka_record.h"

/* One entry per record kind, indexed by enum ainka_kind. */
struct ainka_kind_policy {
	__u32 enabled;
	__u32 sample_n;       /* emit 1 in N events that pass the filters; 0 or 1 = all */
	__u64 min_latency_ns; /* syscall latency, sched_switch run-queue latency,
	                         block_io latency: shorter ones are filtered */
	__u32 budget;         /* adaptive sampling: at most about this many records
	                         per CPU per rate period; 0 = every event */
	__u32 _pad;
};

/* policies_map[0], written by user space at any time. An all-zero policy
 * (before user space writes one) disables every kind. */
struct ainka_policy {
	struct ainka_kind_policy kind[AINKA_KIND_MAX];
	__u32 self_tgid;    /* never record this process (the daemon); 0 = none */
	__u32 pid;          /* only this thread group; 0 = all */
	__u64 cgroup_id;    /* only tasks in this cgroup v2 (exact id); 0 = all */
	__u64 wakeup_bytes; /* wake the reader only once this much is unread */
	__u64 rate_period_ns; /* the period of ainka_kind_policy.budget */
};

/* stats_map: per-CPU, indexed by enum ainka_kind. For every kind, exactly:
 *   seen = emitted + filtered
 *   emitted = records written to events_map + lost
 * matched counts events that passed the filters, before 1-in-N sampling.
 * Events left out by sampling (1-in-N or adaptive) are filtered. */
struct ainka_stats {
	__u64 seen;
	__u64 emitted;
	__u64 lost;     /* bpf_ringbuf_reserve failed: the ring was full */
	__u64 filtered; /* disabled kind, pid/cgroup/self filter, latency, sampling, unpaired */
	__u64 matched;
};

#endif /* AINKA_POLICY_H */
