//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only
/*
 * ainka.bpf.c - AINKA's kernel-side capture: seven kinds of events written as
 * ainka_record.h records into one BPF ring buffer.
 *
 * Every program is a BTF-enabled raw tracepoint (tp_btf): no perf-event
 * buffer is prepared, arguments arrive as typed pointers and kernel fields
 * are read through CO-RE relocations (vmlinux_min.h).
 *
 * Accounting (stats_map, per CPU and per kind) is exact: each event that
 * reaches a counting program is either emitted or filtered, and each emitted
 * record is either in the ring or lost because the ring was full. The
 * counters are plain per-CPU increments except for block_io, whose
 * completion can interrupt an issue or another completion on the same CPU;
 * and tcp, whose retransmissions also happen in process context, where a
 * softirq's tcp_probe can interrupt them; the other tracepoints cannot nest
 * with themselves (they run with IRQs off, in syscall context or in softirq
 * context).
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ainka_record.h"
#include "ainka_policy.h"

char LICENSE[] SEC("license") = "GPL";

/* The record sizes user space relies on (bpf.Kind.RecordSize). */
_Static_assert(sizeof(struct ainka_hdr) == 40, "ainka_hdr");
_Static_assert(sizeof(struct ainka_syscall) == 64, "ainka_syscall");
_Static_assert(sizeof(struct ainka_sched_switch) == 80, "ainka_sched_switch");
_Static_assert(sizeof(struct ainka_sched_wakeup) == 72, "ainka_sched_wakeup");
_Static_assert(sizeof(struct ainka_page_fault) == 64, "ainka_page_fault");
_Static_assert(sizeof(struct ainka_net_rx) == 56, "ainka_net_rx");
_Static_assert(sizeof(struct ainka_block_io) == 72, "ainka_block_io");
_Static_assert(sizeof(struct ainka_host_sample) == 120, "ainka_host_sample");
_Static_assert(sizeof(struct ainka_kernel_decision) == 88, "ainka_kernel_decision");
_Static_assert(sizeof(struct ainka_tcp) == 112, "ainka_tcp");

/* Default size; user space overrides max_entries before loading. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AINKA_KIND_MAX);
	__type(key, __u32);
	__type(value, struct ainka_stats);
} stats_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ainka_policy);
} policies_map SEC(".maps");

/* Per-task state: the syscall in flight and when the task became runnable. */
struct task_ctx {
	__u64 sys_ts;  /* 0 = no syscall being timed */
	__u32 sys_id;
	__u32 sys_k;   /* its log2 weight (rate_keep) */
	__u64 enq_ts;  /* 0 = not known to be waiting on a run queue */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_map SEC(".maps");

/* Block requests in flight, keyed by struct request pointer. */
struct blk_start {
	__u64 ts;
	__u64 sector;
	__u32 pid;
	__u32 tid;
	__u32 dev;
	__u32 op;
	__u32 nr_sector;
	__u32 _pad;
	char comm[AINKA_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct blk_start);
} blk_map SEC(".maps");

static __always_inline struct ainka_policy *get_policy(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&policies_map, &zero);
}

static __always_inline struct ainka_stats *get_stats(__u32 kind)
{
	return bpf_map_lookup_elem(&stats_map, &kind);
}

/* Process filters on a thread group: self-exclusion and the pid filter. */
static __always_inline bool tgid_ok(const struct ainka_policy *pol, __u32 tgid)
{
	if (pol->self_tgid && tgid == pol->self_tgid)
		return false;
	return !pol->pid || tgid == pol->pid;
}

/* Filters that apply to the current task (cgroup is read from current). */
static __always_inline bool current_ok(const struct ainka_policy *pol, __u32 tgid)
{
	if (!tgid_ok(pol, tgid))
		return false;
	return !pol->cgroup_id || bpf_get_current_cgroup_id() == pol->cgroup_id;
}

/* 1-in-N sampling over the events that passed the filters on this CPU. */
static __always_inline bool sample(struct ainka_stats *st, __u32 n)
{
	__u64 m = st->matched++;
	return n <= 1 || m % n == 0;
}

/* Adaptive sampling state of one kind on one CPU. */
struct rate_state {
	__u64 start; /* the current period began here */
	__u32 count; /* events offered in the period */
	__u32 shift; /* keep 1 in 1 << shift */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AINKA_KIND_MAX);
	__type(key, __u32);
	__type(value, struct rate_state);
} rate_map SEC(".maps");

/* Adaptive sampling: a kind whose rate on this CPU passes its budget per
 * period keeps 1 event in 2^k, k chosen from the previous period's count so
 * that about budget records are left; within a period that outgrows its k,
 * k grows. Returns k, the log2 weight the kept record carries, or -1 to
 * leave the event out. The cost of a hot kind is then one map lookup and a
 * few arithmetic operations per event, and the ring and the reader see at
 * most about budget records per CPU per period, however hot the kind. */
static __always_inline int rate_keep(const struct ainka_policy *pol, __u32 kind, __u64 now)
{
	__u32 budget = pol->kind[kind].budget;
	if (!budget)
		return 0;
	struct rate_state *rs = bpf_map_lookup_elem(&rate_map, &kind);
	if (!rs)
		return 0;
	__u64 period = pol->rate_period_ns;
	if (now - rs->start >= period) {
		__u32 k = 0, n = rs->count;
		/* A period that ended long ago says nothing about now. */
		if (now - rs->start < 2 * period) {
			for (; k < AINKA_WEIGHT_MAX_LOG2; k++)
				if ((n >> k) <= budget)
					break;
		}
		rs->start = now;
		rs->count = 0;
		rs->shift = k;
	}
	__u32 seq = rs->count++;
	__u32 k = rs->shift;
	if ((seq >> k) >= 2 * budget && k < AINKA_WEIGHT_MAX_LOG2)
		rs->shift = ++k;
	k &= AINKA_WEIGHT_MAX_LOG2;
	if (seq & ((1u << k) - 1))
		return -1;
	return k;
}

/* hdr.flags bits for a record of log2 weight k. */
static __always_inline __u16 weight_flags(int k)
{
	return (__u16)((k << AINKA_WEIGHT_SHIFT) & AINKA_WEIGHT_MASK);
}

/* Wake the reader only when the unread data crosses the threshold; user
 * space also polls with a short deadline, so nothing waits longer than that.
 * Forcing a wakeup on every record above the threshold would cost an
 * irq_work (a self-IPI, a VM exit under a hypervisor) per record exactly
 * when the reader is behind. The crossing is detected within a small window
 * because producers on other CPUs may reserve between our reserve and the
 * query; a crossing missed that way is caught by the reader's deadline. */
#define WAKEUP_WINDOW 512

static __always_inline __u64 wakeup_flags(const struct ainka_policy *pol)
{
	__u64 avail = bpf_ringbuf_query(&events_map, BPF_RB_AVAIL_DATA);
	if (avail >= pol->wakeup_bytes && avail < pol->wakeup_bytes + WAKEUP_WINDOW)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Copy a task's comm with two 8-byte loads. bpf_get_current_comm() and
 * bpf_probe_read_kernel() cost ~100 ns more per record here; the kernel
 * keeps comm NUL-padded (strscpy_pad in __set_task_comm), so the raw bytes
 * are the same. */
static __always_inline void copy_comm(void *dst, struct task_struct *t)
{
	const __u64 *src = (const __u64 *)t->comm;
	((__u64 *)dst)[0] = src[0];
	((__u64 *)dst)[1] = src[1];
}

/* Header about task t (usually current). */
static __always_inline void hdr_task(struct ainka_hdr *h, __u64 now, struct task_struct *t,
				     __u16 kind, __u16 flags)
{
	h->ts_ns = now;
	h->pid = t->tgid;
	h->tid = t->pid;
	h->cpu = bpf_get_smp_processor_id();
	h->kind = kind;
	h->flags = flags;
	copy_comm(h->comm, t);
}

static __always_inline __u32 task_cpu(struct task_struct *p)
{
	if (bpf_core_field_exists(p->thread_info.cpu))
		return BPF_CORE_READ(p, thread_info.cpu);
	return BPF_CORE_READ((struct task_struct___cpu *)p, cpu);
}

/* ---- syscalls ---------------------------------------------------------- */

/* The syscall in flight on each CPU. Most syscalls enter and exit on the
 * same CPU without a context switch in between, so the enter timestamp is
 * kept in a per-CPU slot (a few loads and stores; the lookup is inlined)
 * rather than in task storage (two helper calls of ~40 ns each, one at enter
 * and one at exit). When the task is switched out with its syscall still in
 * flight, ainka_sys_switch parks the slot in the task's storage, and the exit
 * takes it from there. Syscall tracepoints run with preemption disabled (on
 * kernels with faultable syscall tracepoints too: the BPF probe disables it),
 * so the slot cannot change under a program. */
struct sys_slot {
	__u32 tid; /* 0 = empty */
	__u32 id;
	__u64 ts;
	__u32 k;   /* log2 weight (rate_keep) */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sys_slot);
} sys_slot_map SEC(".maps");

static __always_inline struct sys_slot *get_slot(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&sys_slot_map, &zero);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ainka_sys_enter, struct pt_regs *regs, long id)
{
	struct ainka_policy *pol = get_policy();
	if (!pol || !pol->kind[AINKA_KIND_SYSCALL].enabled)
		return 0;
	struct task_struct *cur = bpf_get_current_task_btf();
	if (!current_ok(pol, cur->tgid))
		return 0;
	struct sys_slot *sl = get_slot();
	if (!sl)
		return 0;
	/* Sampled here, not at exit: a syscall left out is never timed; its
	 * slot says so (ts 0), which spares its exit a task-storage lookup. */
	__u64 now = bpf_ktime_get_ns();
	int k = rate_keep(pol, AINKA_KIND_SYSCALL, now);
	sl->ts = k < 0 ? 0 : now;
	sl->id = id;
	sl->k = k;
	sl->tid = cur->pid;
	return 0;
}

/* A task leaves the CPU in the middle of a syscall: move its slot into its
 * task storage, where its exit (on whichever CPU) finds it. Attached with
 * the syscall kind, whether or not sched_switch records are wanted. */
SEC("tp_btf/sched_switch")
int BPF_PROG(ainka_sys_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	struct sys_slot *sl = get_slot();
	if (!sl || !sl->tid)
		return 0;
	__u32 tid = sl->tid;
	sl->tid = 0;
	if (tid != prev->pid || !sl->ts)
		return 0; /* left by a task that exited without sys_exit, or untimed */
	struct task_ctx *tc = bpf_task_storage_get(&task_map, prev, 0,
						   BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (tc) {
		tc->sys_id = sl->id;
		tc->sys_k = sl->k;
		tc->sys_ts = sl->ts;
	}
	return 0;
}

/* Counting happens at exit: one event per completed syscall. An exit with no
 * timed entry (filtered at entry, or entered before attachment) is filtered. */
SEC("tp_btf/sys_exit")
int BPF_PROG(ainka_sys_exit, struct pt_regs *regs, long ret)
{
	struct ainka_stats *st = get_stats(AINKA_KIND_SYSCALL);
	struct ainka_policy *pol = get_policy();
	struct sys_slot *sl = get_slot();
	if (!st || !pol || !sl)
		return 0;
	st->seen++;
	struct task_struct *cur = bpf_get_current_task_btf();
	__u64 start;
	__u32 id, k;
	if (sl->tid && sl->tid == cur->pid) {
		/* Entered on this CPU and never switched out: the fast path. */
		if (!sl->ts) {
			sl->tid = 0;
			goto filtered; /* left out by rate_keep */
		}
		start = sl->ts;
		id = sl->id;
		k = sl->k;
		sl->tid = 0;
	} else {
		/* Parked by ainka_sys_switch, or never timed. A task the
		 * filters reject was not timed at entry: skip the lookup. */
		if (!current_ok(pol, cur->tgid))
			goto filtered;
		struct task_ctx *tc = bpf_task_storage_get(&task_map, cur, 0, 0);
		if (!tc || !tc->sys_ts)
			goto filtered;
		start = tc->sys_ts;
		id = tc->sys_id;
		k = tc->sys_k;
		tc->sys_ts = 0;
	}
	__u64 now = bpf_ktime_get_ns();
	__u64 lat = now - start;
	struct ainka_kind_policy *kp = &pol->kind[AINKA_KIND_SYSCALL];
	if (lat < kp->min_latency_ns || !sample(st, kp->sample_n))
		goto filtered;

	st->emitted++;
	struct ainka_syscall *r = bpf_ringbuf_reserve(&events_map, sizeof(*r), 0);
	if (!r) {
		st->lost++;
		return 0;
	}
	hdr_task(&r->hdr, now, cur, AINKA_KIND_SYSCALL, weight_flags(k));
	r->id = id;
	r->_pad = 0;
	r->ret = ret;
	r->latency_ns = lat;
	bpf_ringbuf_submit(r, wakeup_flags(pol));
	return 0;
filtered:
	st->filtered++;
	return 0;
}

/* ---- scheduling -------------------------------------------------------- */

/* A task becomes runnable: remember when, for the run-queue latency that
 * sched_switch reports when it gets a CPU. */
static __always_inline void mark_runnable(struct task_struct *p, __u64 now)
{
	if (!p->pid)
		return;
	struct task_ctx *tc = bpf_task_storage_get(&task_map, p, 0,
						   BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (tc)
		tc->enq_ts = now;
}

static __always_inline int on_wakeup(struct task_struct *p, __u16 flags)
{
	struct ainka_stats *st = get_stats(AINKA_KIND_SCHED_WAKEUP);
	struct ainka_policy *pol = get_policy();
	if (!st || !pol)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	if (pol->kind[AINKA_KIND_SCHED_SWITCH].enabled)
		mark_runnable(p, now);

	st->seen++;
	struct ainka_kind_policy *kp = &pol->kind[AINKA_KIND_SCHED_WAKEUP];
	struct task_struct *cur = bpf_get_current_task_btf();
	__u32 target_tgid = p->tgid, tgid = cur->tgid;
	if (!kp->enabled)
		goto filtered;
	/* Either side may be the process of interest; neither may be us. */
	if (pol->self_tgid && (target_tgid == pol->self_tgid || tgid == pol->self_tgid))
		goto filtered;
	if (pol->pid && target_tgid != pol->pid && tgid != pol->pid)
		goto filtered;
	if (pol->cgroup_id && bpf_get_current_cgroup_id() != pol->cgroup_id)
		goto filtered;
	if (!sample(st, kp->sample_n))
		goto filtered;
	int k = rate_keep(pol, AINKA_KIND_SCHED_WAKEUP, now);
	if (k < 0)
		goto filtered;

	st->emitted++;
	struct ainka_sched_wakeup *r = bpf_ringbuf_reserve(&events_map, sizeof(*r), 0);
	if (!r) {
		st->lost++;
		return 0;
	}
	hdr_task(&r->hdr, now, cur, AINKA_KIND_SCHED_WAKEUP, flags | weight_flags(k));
	r->target_pid = target_tgid;
	r->target_tid = p->pid;
	r->target_cpu = task_cpu(p);
	r->_pad = 0;
	copy_comm(r->target_comm, p);
	bpf_ringbuf_submit(r, wakeup_flags(pol));
	return 0;
filtered:
	st->filtered++;
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(ainka_sched_wakeup, struct task_struct *p)
{
	return on_wakeup(p, 0);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(ainka_sched_wakeup_new, struct task_struct *p)
{
	return on_wakeup(p, AINKA_F_WAKEUP_NEW);
}

#define TASK_RUNNING 0

SEC("tp_btf/sched_switch")
int BPF_PROG(ainka_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	struct ainka_stats *st = get_stats(AINKA_KIND_SCHED_SWITCH);
	struct ainka_policy *pol = get_policy();
	if (!st || !pol)
		return 0;
	st->seen++;
	struct ainka_kind_policy *kp = &pol->kind[AINKA_KIND_SCHED_SWITCH];
	if (!kp->enabled)
		goto filtered;

	__u64 now = bpf_ktime_get_ns();
	/* A preempted task goes straight back to the run queue. */
	if (prev_state == TASK_RUNNING)
		mark_runnable(prev, now);
	__u64 runq = 0;
	__u32 next_tid = next->pid;
	if (next_tid) {
		struct task_ctx *tc = bpf_task_storage_get(&task_map, next, 0, 0);
		if (tc && tc->enq_ts) {
			runq = now - tc->enq_ts;
			tc->enq_ts = 0;
		}
	}

	__u32 prev_tgid = prev->tgid, next_tgid = next->tgid;
	if (pol->self_tgid && (prev_tgid == pol->self_tgid || next_tgid == pol->self_tgid))
		goto filtered;
	if (pol->pid && prev_tgid != pol->pid && next_tgid != pol->pid)
		goto filtered;
	if (pol->cgroup_id && bpf_get_current_cgroup_id() != pol->cgroup_id)
		goto filtered;
	if (runq < kp->min_latency_ns || !sample(st, kp->sample_n))
		goto filtered;

	st->emitted++;
	struct ainka_sched_switch *r = bpf_ringbuf_reserve(&events_map, sizeof(*r), 0);
	if (!r) {
		st->lost++;
		return 0;
	}
	__u16 flags = 0;
	if (!prev->pid)
		flags |= AINKA_F_PREV_IDLE;
	if (!next_tid)
		flags |= AINKA_F_NEXT_IDLE;
	hdr_task(&r->hdr, now, prev, AINKA_KIND_SCHED_SWITCH, flags);
	r->next_pid = next_tgid;
	r->next_tid = next_tid;
	r->prev_state = prev_state;
	r->runq_latency_ns = runq;
	copy_comm(r->next_comm, next);
	bpf_ringbuf_submit(r, wakeup_flags(pol));
	return 0;
filtered:
	st->filtered++;
	return 0;
}

/* ---- page faults ------------------------------------------------------- */

static __always_inline int on_fault(__u64 address, struct pt_regs *regs, __u64 error_code,
				    __u16 flags)
{
	struct ainka_stats *st = get_stats(AINKA_KIND_PAGE_FAULT);
	struct ainka_policy *pol = get_policy();
	if (!st || !pol)
		return 0;
	st->seen++;
	struct ainka_kind_policy *kp = &pol->kind[AINKA_KIND_PAGE_FAULT];
	struct task_struct *cur = bpf_get_current_task_btf();
	if (!kp->enabled || !current_ok(pol, cur->tgid) || !sample(st, kp->sample_n))
		goto filtered;
	__u64 now = bpf_ktime_get_ns();
	int k = rate_keep(pol, AINKA_KIND_PAGE_FAULT, now);
	if (k < 0)
		goto filtered;

	st->emitted++;
	struct ainka_page_fault *r = bpf_ringbuf_reserve(&events_map, sizeof(*r), 0);
	if (!r) {
		st->lost++;
		return 0;
	}
	hdr_task(&r->hdr, now, cur, AINKA_KIND_PAGE_FAULT, flags | weight_flags(k));
	r->address = address;
	r->ip = BPF_CORE_READ(regs, ip);
	r->error_code = error_code;
	bpf_ringbuf_submit(r, wakeup_flags(pol));
	return 0;
filtered:
	st->filtered++;
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(ainka_page_fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	return on_fault(address, regs, error_code, AINKA_F_FAULT_USER);
}

SEC("tp_btf/page_fault_kernel")
int BPF_PROG(ainka_page_fault_kernel, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	return on_fault(address, regs, error_code, 0);
}

/* ---- network ----------------------------------------------------------- */

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(ainka_netif_receive_skb, struct sk_buff *skb)
{
	struct ainka_stats *st = get_stats(AINKA_KIND_NET_RX);
	struct ainka_policy *pol = get_policy();
	if (!st || !pol)
		return 0;
	st->seen++;
	struct ainka_kind_policy *kp = &pol->kind[AINKA_KIND_NET_RX];
	struct task_struct *cur = bpf_get_current_task_btf();
	if (!kp->enabled || !current_ok(pol, cur->tgid) || !sample(st, kp->sample_n))
		goto filtered;
	__u64 now = bpf_ktime_get_ns();
	int k = rate_keep(pol, AINKA_KIND_NET_RX, now);
	if (k < 0)
		goto filtered;

	st->emitted++;
	struct ainka_net_rx *r = bpf_ringbuf_reserve(&events_map, sizeof(*r), 0);
	if (!r) {
		st->lost++;
		return 0;
	}
	hdr_task(&r->hdr, now, cur, AINKA_KIND_NET_RX, weight_flags(k));
	r->ifindex = BPF_CORE_READ(skb, dev, ifindex);
	r->len = skb->len;
	r->protocol = __builtin_bswap16(skb->protocol);
	r->_pad0 = 0;
	r->_pad1 = 0;
	bpf_ringbuf_submit(r, wakeup_flags(pol));
	return 0;
filtered:
	st->filtered++;
	return 0;
}

/* ---- block I/O --------------------------------------------------------- */

static __always_inline __u32 rq_dev(struct request *rq)
{
	struct gendisk *disk = 0;
	if (bpf_core_field_exists(rq->q->disk))
		disk = BPF_CORE_READ(rq, q, disk);
	else if (bpf_core_field_exists(rq->rq_disk))
		disk = BPF_CORE_READ(rq, rq_disk);
	if (!disk)
		return 0;
	return ((__u32)BPF_CORE_READ(disk, major) << 20) | (__u32)BPF_CORE_READ(disk, first_minor);
}

/* REQ_OP_BITS has been 8 since 4.10. */
#define REQ_OP_MASK 0xff

SEC("tp_btf/block_rq_issue")
int BPF_PROG(ainka_block_rq_issue, struct request *rq)
{
	struct ainka_policy *pol = get_policy();
	if (!pol || !pol->kind[AINKA_KIND_BLOCK_IO].enabled)
		return 0;
	struct task_struct *cur = bpf_get_current_task_btf();
	if (!current_ok(pol, cur->tgid))
		return 0;
	struct blk_start s = {};
	s.ts = bpf_ktime_get_ns();
	s.sector = BPF_CORE_READ(rq, __sector);
	s.nr_sector = BPF_CORE_READ(rq, __data_len) >> 9;
	s.op = BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK;
	s.dev = rq_dev(rq);
	s.pid = cur->tgid;
	s.tid = cur->pid;
	copy_comm(s.comm, cur);
	__u64 key = (__u64)rq;
	bpf_map_update_elem(&blk_map, &key, &s, BPF_ANY);
	return 0;
}

/* blk_status_t to -errno as blk_status_to_errno() does; the BLK_STS_*
 * values below are the same from 4.13 to 6.18. */
static __always_inline __s32 blk_errno(blk_status_t sts)
{
	switch (sts) {
	case 0: return 0;
	case 1: return -95;  /* NOTSUPP: EOPNOTSUPP */
	case 2: return -110; /* TIMEOUT: ETIMEDOUT */
	case 3: return -28;  /* NOSPC: ENOSPC */
	case 4: return -67;  /* TRANSPORT: ENOLINK */
	case 5: return -121; /* TARGET: EREMOTEIO */
	case 6: return -52;  /* NEXUS / RESV_CONFLICT: EBADE */
	case 7: return -61;  /* MEDIUM: ENODATA */
	case 8: return -84;  /* PROTECTION: EILSEQ */
	case 9: return -12;  /* RESOURCE: ENOMEM */
	case 11: return -78; /* DM_REQUEUE: EREMCHG */
	case 12: return -11; /* AGAIN: EAGAIN */
	case 13: return -16; /* DEV_RESOURCE: EBUSY */
	default: return -5;  /* IOERR and anything newer: EIO */
	}
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(ainka_block_rq_complete, struct request *rq, blk_status_t error,
	     unsigned int nr_bytes)
{
	struct ainka_stats *st = get_stats(AINKA_KIND_BLOCK_IO);
	struct ainka_policy *pol = get_policy();
	if (!st || !pol)
		return 0;
	__sync_fetch_and_add(&st->seen, 1);
	__u64 key = (__u64)rq;
	struct blk_start *s = bpf_map_lookup_elem(&blk_map, &key);
	if (!s)
		goto filtered;
	__u64 now = bpf_ktime_get_ns();
	struct blk_start v = *s;
	bpf_map_delete_elem(&blk_map, &key);
	struct ainka_kind_policy *kp = &pol->kind[AINKA_KIND_BLOCK_IO];
	if (now - v.ts < kp->min_latency_ns)
		goto filtered;
	__u64 m = __sync_fetch_and_add(&st->matched, 1);
	if (kp->sample_n > 1 && m % kp->sample_n)
		goto filtered;

	__sync_fetch_and_add(&st->emitted, 1);
	struct ainka_block_io *r = bpf_ringbuf_reserve(&events_map, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&st->lost, 1);
		return 0;
	}
	r->hdr.ts_ns = now;
	r->hdr.pid = v.pid;
	r->hdr.tid = v.tid;
	r->hdr.cpu = bpf_get_smp_processor_id();
	r->hdr.kind = AINKA_KIND_BLOCK_IO;
	r->hdr.flags = 0;
	__builtin_memcpy(r->hdr.comm, v.comm, sizeof(v.comm));
	r->dev = v.dev;
	r->op = v.op;
	r->sector = v.sector;
	r->nr_sector = v.nr_sector;
	r->error = blk_errno(error);
	r->latency_ns = now - v.ts;
	bpf_ringbuf_submit(r, wakeup_flags(pol));
	return 0;
filtered:
	__sync_fetch_and_add(&st->filtered, 1);
	return 0;
}

/* ---- TCP --------------------------------------------------------------- */

#define AF_INET6 10

/* One tcp record about socket sk. Both tracepoints can run in softirq
 * context and a retransmission also in process context (the socket's owner
 * sending), where a softirq can interrupt it on the same CPU: the counters
 * are atomic, as for block_io. The adaptive sampler's per-CPU state may see
 * such a nested update out of order; that only shifts which event of the
 * period is kept. */
static __always_inline int on_tcp(struct sock *sk, __u16 flags)
{
	struct ainka_stats *st = get_stats(AINKA_KIND_TCP);
	struct ainka_policy *pol = get_policy();
	if (!st || !pol)
		return 0;
	__sync_fetch_and_add(&st->seen, 1);
	struct ainka_kind_policy *kp = &pol->kind[AINKA_KIND_TCP];
	struct task_struct *cur = bpf_get_current_task_btf();
	if (!kp->enabled || !current_ok(pol, cur->tgid))
		goto filtered;
	/* NULL for a request or time-wait socket: no tcp_sock to read. */
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		goto filtered;
	__u64 m = __sync_fetch_and_add(&st->matched, 1);
	if (kp->sample_n > 1 && m % kp->sample_n)
		goto filtered;
	__u64 now = bpf_ktime_get_ns();
	int k = rate_keep(pol, AINKA_KIND_TCP, now);
	if (k < 0)
		goto filtered;

	__sync_fetch_and_add(&st->emitted, 1);
	struct ainka_tcp *r = bpf_ringbuf_reserve(&events_map, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&st->lost, 1);
		return 0;
	}
	hdr_task(&r->hdr, now, cur, AINKA_KIND_TCP, flags | weight_flags(k));
	r->sock_cookie = bpf_get_socket_cookie(sk);
	r->bytes_acked = tp->bytes_acked;
	r->bytes_received = tp->bytes_received;
	r->netns = sk->__sk_common.skc_net.net->ns.inum;
	r->srtt_us = tp->srtt_us >> 3;
	r->snd_cwnd = tp->snd_cwnd;
	r->total_retrans = tp->total_retrans;
	r->segs_out = tp->segs_out;
	__u16 family = sk->__sk_common.skc_family;
	r->family = family;
	r->sport = sk->__sk_common.skc_num;
	r->dport = __builtin_bswap16(sk->__sk_common.skc_dport);
	r->state = sk->__sk_common.skc_state;
	r->_pad0 = 0;
	r->_pad1 = 0;
	__builtin_memset(r->daddr, 0, sizeof(r->daddr));
	if (family == AF_INET6)
		BPF_CORE_READ_INTO(&r->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	else
		*(__u32 *)r->daddr = sk->__sk_common.skc_daddr;
	bpf_ringbuf_submit(r, wakeup_flags(pol));
	return 0;
filtered:
	__sync_fetch_and_add(&st->filtered, 1);
	return 0;
}

/* 6.18 passes a third argument (the error); a program may declare fewer
 * arguments than the tracepoint has, so this one attaches on 6.1 too. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(ainka_tcp_retransmit_skb, struct sock *sk, struct sk_buff *skb)
{
	return on_tcp(sk, AINKA_F_TCP_RETRANS);
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(ainka_tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	return on_tcp(sk, 0);
}
