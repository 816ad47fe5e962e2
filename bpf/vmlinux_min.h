/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmlinux_min.h - the few kernel types the AINKA programs touch.
 *
 * Instead of a multi-megabyte vmlinux.h dumped from one kernel's BTF, this
 * declares only the fields we read, under preserve_access_index: clang emits
 * CO-RE relocations for every access and libbpf/cilium resolve them against
 * the running kernel's BTF at load time. Field order and offsets here do
 * not matter; names and types do. The object therefore loads on any kernel
 * with these fields (checked: 6.1 and 6.18), and regenerating it does not
 * depend on the BTF of the build machine.
 */
#ifndef AINKA_VMLINUX_MIN_H
#define AINKA_VMLINUX_MIN_H

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef signed short __s16;
typedef unsigned int __u32;
typedef signed int __s32;
typedef unsigned long long __u64;
typedef signed long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

typedef __u32 u32;
typedef __u64 u64;
typedef __u32 dev_t;
typedef __u8 blk_status_t;
typedef __u32 blk_opf_t;

/* uapi/linux/bpf.h values used here; stable ABI. */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
};
#define BPF_F_NO_PREALLOC (1U << 0)
#define BPF_LOCAL_STORAGE_GET_F_CREATE (1ULL << 0)
#define BPF_RB_NO_WAKEUP (1ULL << 0)
#define BPF_RB_FORCE_WAKEUP (1ULL << 1)
#define BPF_RB_AVAIL_DATA 0
#define BPF_ANY 0

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct pt_regs {
	unsigned long ip;
};

struct thread_info {
	u32 cpu; /* 5.16+ with THREAD_INFO_IN_TASK (x86, arm64) */
};

struct task_struct {
	struct thread_info thread_info;
	int pid;
	int tgid;
	char comm[16];
};

/* Kernels that keep the CPU in task_struct (5.3..5.15). */
struct task_struct___cpu {
	unsigned int cpu;
};

struct net_device {
	int ifindex;
};

struct sk_buff {
	struct net_device *dev;
	unsigned int len;
	__be16 protocol;
};

struct gendisk {
	int major;
	int first_minor;
};

struct request_queue {
	struct gendisk *disk; /* 5.15+ */
};

struct request {
	struct request_queue *q;
	struct gendisk *rq_disk; /* before 5.16 */
	blk_opf_t cmd_flags;
	unsigned int __data_len;
	__u64 __sector;
};

/* TCP (the tcp kind). The address and port fields sit in anonymous
 * unions of struct sock_common in the kernel; CO-RE finds members of
 * anonymous structs and unions by name, so they are declared flat here. */
struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

/* s6_addr is a macro for in6_u.u6_addr8: CO-RE needs the real names. */
struct in6_addr {
	union {
		__u8 u6_addr8[16];
	} in6_u;
};

struct sock_common {
	__be32 skc_daddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
};

struct sock {
	struct sock_common __sk_common;
};

struct tcp_sock {
	u32 snd_cwnd;
	u32 segs_out;
	u32 srtt_us; /* smoothed RTT << 3, in microseconds */
	u64 bytes_received;
	u64 bytes_acked;
	u32 total_retrans;
};

#pragma clang attribute pop

#endif /* AINKA_VMLINUX_MIN_H */
