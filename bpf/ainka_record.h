/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ainka_record.h - the wire format of every AINKA event record.
 *
 * This layout is a contract shared by the eBPF programs (which write it into
 * events_map), the trace files (which store the records byte for byte), the
 * decode stage (which parses them) and the user-space producers of synthetic
 * records (host samples, kernel-module decisions). Change it only together
 * with AINKA_SCHEMA_VERSION; decode rejects traces of another schema.
 *
 * All fields are little-endian, naturally aligned, with explicit padding so
 * that the C and Go views agree without compiler help.
 */
#ifndef AINKA_RECORD_H
#define AINKA_RECORD_H

/*
 * Constants are enums, not #defines, so that they reach the object's BTF
 * and bpf2go generates them for Go (bpf/record); a #define would have to be
 * copied by hand.
 */
enum ainka_format {
	/* 2: ainka_hdr.flags carries a record's weight (AINKA_WEIGHT_*). A
	 * schema 1 record is a schema 2 record of weight 1. */
	AINKA_SCHEMA_VERSION = 2,
	AINKA_COMM_LEN = 16,
};

/* Record kinds. Values index stats_map and policies_map; keep them dense.
 * Adding one: see bpf/doc.go. */
enum ainka_kind {
	AINKA_KIND_NONE = 0,
	AINKA_KIND_SYSCALL = 1,
	AINKA_KIND_SCHED_SWITCH = 2,
	AINKA_KIND_SCHED_WAKEUP = 3,
	AINKA_KIND_PAGE_FAULT = 4,
	AINKA_KIND_NET_RX = 5,
	AINKA_KIND_BLOCK_IO = 6,
	/* Produced in user space, never by the eBPF programs. */
	AINKA_KIND_HOST_SAMPLE = 7,
	AINKA_KIND_KERNEL_DECISION = 8,
	/* From the eBPF programs again: kinds keep their numbers across
	 * versions (traces store them), so new ones go at the end. */
	AINKA_KIND_TCP = 9,
	AINKA_KIND_MAX = 10,
};

/* ainka_hdr.flags */
enum ainka_hdr_flag {
	AINKA_F_FAULT_USER = 1 << 0, /* page_fault: exceptions:page_fault_user */
	AINKA_F_WAKEUP_NEW = 1 << 1, /* sched_wakeup: sched_wakeup_new */
	AINKA_F_PREV_IDLE  = 1 << 2, /* sched_switch: prev was the idle task */
	AINKA_F_NEXT_IDLE  = 1 << 3, /* sched_switch: next is the idle task */
	AINKA_F_TCP_RETRANS = 1 << 4, /* tcp: tcp:tcp_retransmit_skb (else tcp:tcp_probe) */
};

/*
 * A record's weight: the number of events it stands for is
 * 1 << ((flags & AINKA_WEIGHT_MASK) >> AINKA_WEIGHT_SHIFT). Adaptive
 * sampling (ainka_kind_policy.budget) keeps 1 event in 2^k of a CPU whose
 * rate of a kind passed its budget and writes k here, so that counts and
 * rates stay estimates of every event while the ring carries a bounded
 * number of records. 0 (every record before schema 2) is weight 1.
 */
enum ainka_weight {
	AINKA_WEIGHT_SHIFT = 8,
	AINKA_WEIGHT_MASK = 0xf00,
	AINKA_WEIGHT_MAX_LOG2 = 15,
};

/*
 * Common header, 40 bytes. ts_ns is bpf_ktime_get_ns() (CLOCK_MONOTONIC):
 * pipeline time is this event time, never the wall clock. pid is the
 * thread-group id, tid the thread id, both of the task the record is about
 * (see each payload).
 */
struct ainka_hdr {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__u32 cpu;
	__u16 kind;
	__u16 flags;
	__u8 comm[AINKA_COMM_LEN]; /* bytes, not char: Go sees [16]byte */
};

/* syscall: one record per completed syscall, enter and exit paired in the
 * kernel per thread. Header = the calling task. 64 bytes. */
struct ainka_syscall {
	struct ainka_hdr hdr;
	__u32 id;
	__u32 _pad;
	__s64 ret;
	__u64 latency_ns;
};

/* sched_switch: header = prev (the task leaving the CPU); the payload
 * describes next and how long next waited runnable (0 if unknown). 80 bytes. */
struct ainka_sched_switch {
	struct ainka_hdr hdr;
	__u32 next_pid;
	__u32 next_tid;
	__s64 prev_state;
	__u64 runq_latency_ns;
	__u8 next_comm[AINKA_COMM_LEN];
};

/* sched_wakeup / sched_wakeup_new (AINKA_F_WAKEUP_NEW): header = the waker,
 * payload = the woken task. 72 bytes. */
struct ainka_sched_wakeup {
	struct ainka_hdr hdr;
	__u32 target_pid;
	__u32 target_tid;
	__u32 target_cpu;
	__u32 _pad;
	__u8 target_comm[AINKA_COMM_LEN];
};

/* page_fault: header = faulting task; AINKA_F_FAULT_USER for user faults.
 * 64 bytes. */
struct ainka_page_fault {
	struct ainka_hdr hdr;
	__u64 address;
	__u64 ip;
	__u64 error_code;
};

/* net_rx: net:netif_receive_skb. Header = current task (often softirq
 * context). 56 bytes. */
struct ainka_net_rx {
	struct ainka_hdr hdr;
	__u32 ifindex;
	__u32 len;
	__u16 protocol; /* host byte order */
	__u16 _pad0;
	__u32 _pad1;
};

/* block_io: one record per completed request, issue and completion paired
 * in the kernel. Header = the task that issued the request. 72 bytes. */
struct ainka_block_io {
	struct ainka_hdr hdr;
	__u32 dev;        /* kernel dev_t: major << 20 | minor */
	__u32 op;         /* REQ_OP_* (cmd_flags & REQ_OP_MASK) */
	__u64 sector;
	__u32 nr_sector;
	__s32 error;      /* blk_status_t mapped to -errno, 0 on success */
	__u64 latency_ns; /* issue to complete */
};

/* tcp: a TCP socket's state at a retransmission (tcp:tcp_retransmit_skb,
 * AINKA_F_TCP_RETRANS) or at an incoming segment of an established
 * connection (tcp:tcp_probe, usually an ACK: the RTT sample). Header =
 * the current task (often softirq context: not the socket's owner). The
 * counters are the socket's cumulative ones (struct tcp_sock), so the
 * difference of two records of one socket (sock_cookie) is exact however
 * many records sampling left out in between. 112 bytes. */
struct ainka_tcp {
	struct ainka_hdr hdr;
	__u64 sock_cookie;    /* bpf_get_socket_cookie: unique per socket, never 0 */
	__u64 bytes_acked;    /* sent and acknowledged */
	__u64 bytes_received;
	__u32 netns;          /* the socket's network namespace: its inode number */
	__u32 srtt_us;        /* smoothed RTT, microseconds (0: no sample yet) */
	__u32 snd_cwnd;       /* congestion window, segments */
	__u32 total_retrans;  /* segments retransmitted */
	__u32 segs_out;       /* segments sent, retransmissions included */
	__u16 family;         /* AF_INET 2, AF_INET6 10 */
	__u16 sport;          /* host byte order */
	__u16 dport;          /* host byte order */
	__u8 state;           /* TCP_ESTABLISHED 1, ... */
	__u8 _pad0;
	__u32 _pad1;
	__u8 daddr[16];       /* remote address: 4 bytes for AF_INET, 16 for AF_INET6 */
};

/* host_sample: written by the live source in user space every collection
 * interval (and recorded into traces) so that replays see the same host
 * signals. Counters are cumulative as the kernel reports them. 120 bytes. */
struct ainka_host_sample {
	struct ainka_hdr hdr;
	__u64 mem_total_kb;
	__u64 mem_available_kb;
	__u64 psi_cpu_some_us;  /* /proc/pressure/cpu some total= */
	__u64 psi_mem_some_us;
	__u64 psi_mem_full_us;
	__u64 psi_io_some_us;
	__u64 psi_io_full_us;
	__u32 nr_running;       /* /proc/loadavg 4th field, runnable now */
	__u32 flags;            /* AINKA_HOST_* presence bits */
	__u64 cpu_busy_ticks;   /* /proc/stat cpu: user+nice+system+irq+softirq+steal */
	__u64 cpu_total_ticks;
};

/* ainka_host_sample.flags */
enum ainka_host_flag {
	AINKA_HOST_HAVE_PSI  = 1 << 0,
	AINKA_HOST_HAVE_MEM  = 1 << 1,
	AINKA_HOST_HAVE_STAT = 1 << 2,
};

/* kernel_decision: a fast-path decision or state change that the kernel
 * module announced on its netlink multicast group, turned into a record by
 * user space. hdr.flags holds the announcement's type, enum ainka_event_type
 * of kmod/include/uapi/ainka_genl.h (AINKA_DECISION_* below mirror it).
 * 88 bytes. */
struct ainka_kernel_decision {
	struct ainka_hdr hdr;
	__u32 rule_id;
	__u32 action;
	__u32 state;      /* state after the decision */
	__u32 metric;
	__s64 value;      /* the metric's value that matched */
	__s64 threshold;
	__u64 latency_ns; /* condition seen -> published, measured in the module */
	__u64 seq;
};

/* kernel_decision hdr.flags: which announcement the record carries. */
enum ainka_decision_type {
	AINKA_DECISION_RULE     = 1, /* a fast-path rule fired */
	AINKA_DECISION_RECOVERY = 2, /* its condition cleared; actions undone */
	AINKA_DECISION_STATE    = 3, /* a state change */
	AINKA_DECISION_KERNEL   = 4, /* ainka_register_event from a kernel consumer */
	AINKA_DECISION_PREDICT  = 5, /* ainka_request_prediction: user space asked */
};

#endif /* AINKA_RECORD_H */
