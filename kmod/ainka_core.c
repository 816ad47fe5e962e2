// SPDX-License-Identifier: GPL-2.0-only
/*
 * ainka_core.ko - the AINKA fast path and its generic netlink protocol.
 *
 * Layout of the concurrency:
 *  - a soft hrtimer samples cheap signals every sample_interval_ms and
 *    evaluates the fast-path rules under RCU. A rule that fires acts there
 *    and then, in softirq context: state (atomic), pre-armed
 *    recommendation (rec_lock, GFP_ATOMIC), multicast of the decision
 *    (GFP_ATOMIC). It never sleeps;
 *  - decide_work (a WQ_HIGHPRI workqueue) does what may sleep: the rule's
 *    actuation (renice, readahead) and the undo on recovery;
 *  - slow_work refreshes the signals that need a task walk or a file read
 *    (runnable tasks every 10 ms, PSI every second);
 *  - rules and actuations change under ainka_mutex, recommendations under
 *    rec_lock; readers of rules and recommendations use RCU.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/hrtimer.h>
#include <linux/workqueue.h>
#include <linux/rculist.h>
#include <linux/hashtable.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/loadavg.h>
#include <linux/sched/task.h>
#include <linux/pid.h>
#include <linux/blkdev.h>
#include <linux/backing-dev.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <linux/fs.h>
#include <linux/sort.h>
#include <linux/ctype.h>
#include <linux/version.h>
#include <linux/jhash.h>
#include <net/genetlink.h>

#include "include/ainka.h"

#define AINKA_LAT_RING 1024
#define AINKA_MAX_FOR_MS 3600000u

/* ---- module parameters, validated at insertion and on every write ---- */

static unsigned int sample_interval_ms = 10;
static unsigned int emergency_threshold = 5;
static bool debug;

static int ainka_set_uint_range(const char *val, const struct kernel_param *kp,
				unsigned int min, unsigned int max)
{
	unsigned int v;

	if (kstrtouint(val, 0, &v) || v < min || v > max) {
		pr_err("%s=%s is invalid: want an integer in %u..%u\n",
		       kp->name, val, min, max);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = v;
	return 0;
}

static int ainka_set_interval(const char *val, const struct kernel_param *kp)
{
	return ainka_set_uint_range(val, kp, 1, 1000);
}

static int ainka_set_emergency(const char *val, const struct kernel_param *kp)
{
	return ainka_set_uint_range(val, kp, 0, 99);
}

static const struct kernel_param_ops ainka_interval_ops = {
	.set = ainka_set_interval,
	.get = param_get_uint,
};

static const struct kernel_param_ops ainka_emergency_ops = {
	.set = ainka_set_emergency,
	.get = param_get_uint,
};

module_param_cb(sample_interval_ms, &ainka_interval_ops, &sample_interval_ms, 0644);
MODULE_PARM_DESC(sample_interval_ms, "fast-path sampling interval in ms, 1..1000 (default 10); applied by 'config_update' in /proc/ainka");
module_param_cb(emergency_threshold, &ainka_emergency_ops, &emergency_threshold, 0644);
MODULE_PARM_DESC(emergency_threshold, "enter emergency when available memory falls below this percent, 0..99 (0 = off, default 5)");
module_param(debug, bool, 0644);
MODULE_PARM_DESC(debug, "log every decision");

/* ---- state ---- */

static DEFINE_MUTEX(ainka_mutex);	/* rules, actuations, stopping */
static bool ainka_stopping;		/* under ainka_mutex */
static bool ainka_family_live;

static atomic_t ainka_state = ATOMIC_INIT(AINKA_STATE_LEARNING);
static atomic64_t ainka_seq;
static atomic64_t stat_samples, stat_decisions, stat_rejected;
static atomic64_t stat_events_sent, stat_events_dropped;
static atomic64_t stat_sample_cost_ns;
static u64 ainka_load_ns;

static atomic64_t metric_val[AINKA_METRIC_MAX + 1];
static unsigned long metric_have;	/* bit per metric with a value */

static DEFINE_SPINLOCK(lat_lock);
static u64 lat_ring[AINKA_LAT_RING];
static unsigned int lat_next, lat_count;
static u64 lat_max;

/* Cost of the last samples; written by the sampler only (one at a time). */
static u32 cost_ring[AINKA_LAT_RING];
static unsigned int cost_next;

/* A fast-path rule. Configuration fields are immutable once published;
 * replacement is a new object. Runtime fields belong to the sampler
 * (first_true_ns) or travel through the atomic flag bits. */
struct ainka_rule {
	struct list_head list;
	struct rcu_head rcu;
	u32 id, metric, cmp, for_ms, action, priority, target_state;
	s64 threshold;
	bool has_rec;
	char rec_key[AINKA_REC_KEY_MAX];
	s64 rec_value;
	u32 act_pid, act_dev;
	s64 act_value;
	/* runtime */
	u64 first_true_ns;
	u64 cond_ns;		/* the last firing: sample time and value */
	s64 cond_value;
	u32 prev_state;
	atomic64_t hits;
	unsigned long flags;
};

#define RULE_ACTIVE	0
#define RULE_ACT	1	/* fired: its actuation is for decide_work */
#define RULE_RECOVER	2

static LIST_HEAD(ainka_rules);		/* by priority desc, id asc */
static unsigned int nr_rules;
static unsigned int rules_gen = 1;	/* bumped on change: dumps see it */

struct ainka_rec {
	struct hlist_node node;
	struct rcu_head rcu;
	s64 value;
	char key[AINKA_REC_KEY_MAX];
};

/* Readers: RCU. Writers: rec_lock, taken from process context and from
 * the sampler's softirq (a firing rule applies its recommendation). */
static DEFINE_HASHTABLE(ainka_recs, 8);
static DEFINE_SPINLOCK(rec_lock);
static unsigned int nr_recs;
static unsigned int recs_gen = 1;	/* bumped on insert/delete, under rec_lock */

struct ainka_act {
	struct list_head list;
	u32 kind;
	u32 rule_id;		/* 0 = requested over netlink */
	struct pid *pid;	/* RENICE */
	dev_t dev;		/* READAHEAD */
	s64 prev;
	s64 cur;
};

static LIST_HEAD(ainka_acts);
static unsigned int nr_acts;

struct ainka_detector {
	spinlock_t lock;
	s64 mean;		/* x 256 */
	u64 var;		/* of the deviation, x 256 */
	u32 n;
};

static struct ainka_detector detectors[AINKA_DETECTORS];

/* Every rule, recommendation and actuation record alive: must be 0 once
 * the module has freed everything at unload, else it reports a leak. */
static atomic_t live_objs = ATOMIC_INIT(0);

static void *ainka_zalloc(size_t size, gfp_t gfp)
{
	void *p = kzalloc(size, gfp);

	if (p)
		atomic_inc(&live_objs);
	return p;
}

static void ainka_free(void *p)
{
	if (p)
		atomic_dec(&live_objs);
	kfree(p);
}

static struct hrtimer sampler;
static struct workqueue_struct *ainka_wq;
static struct work_struct decide_work, slow_work;
static unsigned int slow_tick;
static unsigned int active_interval_ms;	/* what the running sampler uses */
static u64 psi_last_ns;
static struct proc_dir_entry *ainka_proc;

static const char *const state_names[] = {
	[AINKA_STATE_UNSPEC] = "unspec",
	[AINKA_STATE_LEARNING] = "learning",
	[AINKA_STATE_OPTIMIZING] = "optimizing",
	[AINKA_STATE_ANOMALY_DETECTION] = "anomaly-detection",
	[AINKA_STATE_PREDICTIVE_SCALING] = "predictive-scaling",
	[AINKA_STATE_EMERGENCY] = "emergency",
};

/* ---- events ---- */

static struct genl_family ainka_family;

static const struct genl_multicast_group ainka_mcgrps[] = {
#ifdef GENL_MCAST_CAP_NET_ADMIN
	/* Decisions and states are for administrators only. */
	{ .name = AINKA_GENL_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
#else
	{ .name = AINKA_GENL_MCGRP_EVENTS },
#endif
};

struct ainka_event {
	u32 type;
	u32 rule_id, action, state, prev_state, metric;
	s64 value, threshold;
	u64 ts_ns;
	u64 latency_ns;		/* filled at publication when ts_ns != 0 */
	const char *source;
	u32 horizon_ms;
	u64 seq;
};

static void ainka_record_latency(u64 ns)
{
	unsigned long flags;

	spin_lock_irqsave(&lat_lock, flags);
	lat_ring[lat_next] = ns;
	lat_next = (lat_next + 1) % AINKA_LAT_RING;
	if (lat_count < AINKA_LAT_RING)
		lat_count++;
	if (ns > lat_max)
		lat_max = ns;
	spin_unlock_irqrestore(&lat_lock, flags);
}

/* Callable from any context: GFP_ATOMIC, no locks held across the send. */
static u64 ainka_publish(struct ainka_event *ev)
{
	struct sk_buff *skb;
	void *hdr;
	int err;

	if (!ev->seq)
		ev->seq = atomic64_inc_return(&ainka_seq);
	if (!READ_ONCE(ainka_family_live))
		return ev->seq;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!skb)
		goto drop;
	hdr = genlmsg_put(skb, 0, 0, &ainka_family, 0, AINKA_CMD_EVENT);
	if (!hdr)
		goto drop_free;
	if (nla_put_u32(skb, AINKA_A_EVENT_TYPE, ev->type) ||
	    nla_put_u64_64bit(skb, AINKA_A_EVENT_SEQ, ev->seq, AINKA_A_UNSPEC) ||
	    nla_put_u32(skb, AINKA_A_STATE, ev->state) ||
	    nla_put_u32(skb, AINKA_A_PREV_STATE, ev->prev_state) ||
	    nla_put_u32(skb, AINKA_A_POLICY_ID, ev->rule_id) ||
	    nla_put_u32(skb, AINKA_A_POLICY_ACTION, ev->action) ||
	    nla_put_u32(skb, AINKA_A_POLICY_METRIC, ev->metric) ||
	    nla_put_s64(skb, AINKA_A_EVENT_VALUE, ev->value, AINKA_A_UNSPEC) ||
	    nla_put_s64(skb, AINKA_A_POLICY_THRESHOLD, ev->threshold, AINKA_A_UNSPEC))
		goto drop_free;
	if (ev->source && nla_put_string(skb, AINKA_A_EVENT_SOURCE, ev->source))
		goto drop_free;
	if (ev->horizon_ms && nla_put_u32(skb, AINKA_A_HORIZON_MS, ev->horizon_ms))
		goto drop_free;
	if (!ev->ts_ns)
		ev->ts_ns = ktime_get_ns();
	else
		ev->latency_ns = ktime_get_ns() - ev->ts_ns;
	if (nla_put_u64_64bit(skb, AINKA_A_EVENT_TS_NS, ev->ts_ns, AINKA_A_UNSPEC) ||
	    nla_put_u64_64bit(skb, AINKA_A_EVENT_LATENCY_NS, ev->latency_ns, AINKA_A_UNSPEC))
		goto drop_free;
	genlmsg_end(skb, hdr);
	err = genlmsg_multicast(&ainka_family, skb, 0, 0, GFP_ATOMIC);
	/* -ESRCH: nobody listens, which is not a loss. */
	if (err && err != -ESRCH) {
		atomic64_inc(&stat_events_dropped);
		return ev->seq;
	}
	atomic64_inc(&stat_events_sent);
	return ev->seq;

drop_free:
	nlmsg_free(skb);
drop:
	atomic64_inc(&stat_events_dropped);
	return ev->seq;
}

static u32 ainka_change_state(u32 state)
{
	u32 prev = atomic_xchg(&ainka_state, state);

	if (prev != state) {
		struct ainka_event ev = {
			.type = AINKA_EVENT_STATE_CHANGE,
			.state = state,
			.prev_state = prev,
		};

		ainka_publish(&ev);
	}
	return prev;
}

/* ---- recommendations (RCU readers, writers under rec_lock) ---- */

static void rec_free_rcu(struct rcu_head *head)
{
	ainka_free(container_of(head, struct ainka_rec, rcu));
}

static void rule_free_rcu(struct rcu_head *head)
{
	ainka_free(container_of(head, struct ainka_rule, rcu));
}

static u32 rec_hash(const char *key)
{
	return jhash(key, strlen(key), 0);
}

static struct ainka_rec *rec_find_rcu(const char *key)
{
	struct ainka_rec *r;

	hash_for_each_possible_rcu(ainka_recs, r, node, rec_hash(key))
		if (!strcmp(r->key, key))
			return r;
	return NULL;
}

static bool rec_key_valid(const char *key)
{
	const char *p;

	if (!*key)
		return false;
	for (p = key; *p; p++)
		if (!isalnum(*p) && !strchr("_.:-", *p))
			return false;
	return true;
}

/* Any context but hardirq: gfp says whether it may sleep. */
static int rec_set(const char *key, s64 value, gfp_t gfp)
{
	struct ainka_rec *r, *n;
	unsigned long flags;

	spin_lock_irqsave(&rec_lock, flags);
	r = rec_find_rcu(key);
	if (r) {
		WRITE_ONCE(r->value, value);
		spin_unlock_irqrestore(&rec_lock, flags);
		return 0;
	}
	spin_unlock_irqrestore(&rec_lock, flags);

	n = ainka_zalloc(sizeof(*n), gfp);
	if (!n)
		return -ENOMEM;
	strscpy(n->key, key, sizeof(n->key));
	n->value = value;
	spin_lock_irqsave(&rec_lock, flags);
	r = rec_find_rcu(key);
	if (r || nr_recs >= AINKA_MAX_RECS) {
		if (r)
			WRITE_ONCE(r->value, value);
		spin_unlock_irqrestore(&rec_lock, flags);
		ainka_free(n);
		return r ? 0 : -ENOSPC;
	}
	hash_add_rcu(ainka_recs, &n->node, rec_hash(key));
	nr_recs++;
	recs_gen++;
	spin_unlock_irqrestore(&rec_lock, flags);
	return 0;
}

int ainka_get_recommendation(const char *key, s64 *value)
{
	struct ainka_rec *r;
	int ret = -ENOENT;

	if (!key || !value)
		return -EINVAL;
	rcu_read_lock();
	r = rec_find_rcu(key);
	if (r) {
		*value = READ_ONCE(r->value);
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(ainka_get_recommendation);

/* ---- actuations ---- */

static struct block_device *ainka_bdev_open(dev_t dev, void **handle)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct file *f = bdev_file_open_by_dev(dev, BLK_OPEN_READ, NULL, NULL);

	if (IS_ERR(f))
		return ERR_CAST(f);
	*handle = f;
	return file_bdev(f);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	struct bdev_handle *h = bdev_open_by_dev(dev, BLK_OPEN_READ, NULL, NULL);

	if (IS_ERR(h))
		return ERR_CAST(h);
	*handle = h;
	return h->bdev;
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	*handle = NULL;
	return blkdev_get_by_dev(dev, BLK_OPEN_READ, NULL, NULL);
#else
	*handle = NULL;
	return blkdev_get_by_dev(dev, FMODE_READ, NULL);
#endif
}

static void ainka_bdev_close(struct block_device *bdev, void *handle)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	fput(handle);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	bdev_release(handle);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	blkdev_put(bdev, NULL);
#else
	blkdev_put(bdev, FMODE_READ);
#endif
}

/* Swap the device's readahead; *prev gets the old value in pages. */
static int ainka_set_readahead(dev_t dev, s64 pages, s64 *prev)
{
	struct block_device *bdev;
	void *handle;

	bdev = ainka_bdev_open(dev, &handle);
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	*prev = READ_ONCE(bdev->bd_disk->bdi->ra_pages);
	WRITE_ONCE(bdev->bd_disk->bdi->ra_pages, (unsigned long)pages);
	ainka_bdev_close(bdev, handle);
	return 0;
}

/* The user thread, outside the caller's own thread group, that is
 * runnable now and has consumed the most CPU; else the biggest consumer. */
static struct pid *ainka_top_consumer(void)
{
	struct task_struct *g, *t, *best = NULL;
	bool best_running = false;
	struct pid *pid = NULL;

	rcu_read_lock();
	for_each_process_thread(g, t) {
		bool running;

		if (t->flags & (PF_KTHREAD | PF_EXITING) || !t->mm)
			continue;
		if (same_thread_group(t, current))
			continue;
		running = task_is_running(t);
		if (!best || (running && !best_running) ||
		    (running == best_running &&
		     t->se.sum_exec_runtime > best->se.sum_exec_runtime)) {
			best = t;
			best_running = running;
		}
	}
	if (best)
		pid = get_pid(task_pid(best));
	rcu_read_unlock();
	return pid;
}

static struct ainka_act *act_find(u32 kind, struct pid *pid, dev_t dev)
{
	struct ainka_act *a;

	list_for_each_entry(a, &ainka_acts, list)
		if (a->kind == kind && a->pid == pid && a->dev == dev)
			return a;
	return NULL;
}

/* Apply one actuation and record the value to restore. The first
 * recorded previous value of a target wins, so stacked actuations all
 * roll back to the original. Consumes the pid reference. */
static int ainka_actuate_locked(u32 kind, struct pid *pid, dev_t dev,
				s64 value, u32 rule_id, s64 *prev_out,
				struct netlink_ext_ack *extack)
{
	struct ainka_act *a;
	s64 prev;
	int err;

	lockdep_assert_held(&ainka_mutex);
	if (kind == AINKA_ACTION_RENICE) {
		struct task_struct *task = get_pid_task(pid, PIDTYPE_PID);

		if (!task) {
			NL_SET_ERR_MSG_MOD(extack, "no such process");
			put_pid(pid);
			return -ESRCH;
		}
		if (task->flags & PF_KTHREAD) {
			NL_SET_ERR_MSG_MOD(extack, "refusing to renice a kernel thread");
			put_task_struct(task);
			put_pid(pid);
			return -EPERM;
		}
		prev = task_nice(task);
		set_user_nice(task, value);
		put_task_struct(task);
	} else {
		err = ainka_set_readahead(dev, value, &prev);
		if (err) {
			NL_SET_ERR_MSG_MOD(extack, "cannot open the block device");
			return err;
		}
	}
	*prev_out = prev;
	a = act_find(kind, pid, dev);
	if (a) {
		a->cur = value;
		put_pid(pid);
		return 0;
	}
	a = ainka_zalloc(sizeof(*a), GFP_KERNEL);
	if (!a) {
		/* Cannot record: undo rather than leave an unrestorable change. */
		if (kind == AINKA_ACTION_RENICE) {
			struct task_struct *task = get_pid_task(pid, PIDTYPE_PID);

			if (task) {
				set_user_nice(task, prev);
				put_task_struct(task);
			}
		} else {
			ainka_set_readahead(dev, prev, &prev);
		}
		put_pid(pid);
		return -ENOMEM;
	}
	a->kind = kind;
	a->pid = pid;
	a->dev = dev;
	a->prev = prev;
	a->cur = value;
	a->rule_id = rule_id;
	list_add_tail(&a->list, &ainka_acts);
	nr_acts++;
	return 0;
}

static void act_restore_one(struct ainka_act *a)
{
	s64 ignored;

	if (a->kind == AINKA_ACTION_RENICE) {
		struct task_struct *task = get_pid_task(a->pid, PIDTYPE_PID);

		if (task) {
			set_user_nice(task, a->prev);
			put_task_struct(task);
		}
		put_pid(a->pid);
	} else if (ainka_set_readahead(a->dev, a->prev, &ignored)) {
		pr_warn("cannot restore readahead of %u:%u (device gone)\n",
			MAJOR(a->dev), MINOR(a->dev));
	}
	list_del(&a->list);
	nr_acts--;
	ainka_free(a);
}

/* Restore the actuations of one rule, or every one when all is set. */
static void ainka_restore_locked(bool all, u32 rule_id)
{
	struct ainka_act *a, *tmp;

	lockdep_assert_held(&ainka_mutex);
	list_for_each_entry_safe_reverse(a, tmp, &ainka_acts, list)
		if (all || a->rule_id == rule_id)
			act_restore_one(a);
}

/* ---- the sampler ---- */

static void metric_store(u32 m, s64 v)
{
	atomic64_set(&metric_val[m], v);
	if (!test_bit(m, &metric_have))
		set_bit(m, &metric_have);
}

int ainka_get_metric(u32 metric, s64 *value)
{
	if (!metric || metric > AINKA_METRIC_MAX || !value)
		return -EINVAL;
	if (!test_bit(metric, &metric_have))
		return -ENODATA;
	*value = atomic64_read(&metric_val[metric]);
	return 0;
}
EXPORT_SYMBOL_GPL(ainka_get_metric);

static bool rule_cmp(u32 cmp, s64 v, s64 t)
{
	switch (cmp) {
	case AINKA_CMP_LT: return v < t;
	case AINKA_CMP_LE: return v <= t;
	case AINKA_CMP_GT: return v > t;
	case AINKA_CMP_GE: return v >= t;
	case AINKA_CMP_EQ: return v == t;
	case AINKA_CMP_NE: return v != t;
	}
	return false;
}

/* The fast path proper, in the sampler's softirq: enter the rule's
 * state, apply its pre-armed recommendation and publish the decision, with
 * no round trip and no wake-up. Only an actuation (which may sleep: block
 * device open, task walk) is left to decide_work. */
static void rule_fire(struct ainka_rule *r, u64 now, s64 v)
{
	struct ainka_event ev = {
		.type = AINKA_EVENT_DECISION,
		.rule_id = r->id,
		.action = r->action,
		.metric = r->metric,
		.threshold = r->threshold,
		.value = v,
		.ts_ns = now,
	};

	r->cond_ns = now;
	r->cond_value = v;
	r->prev_state = r->target_state ?
		atomic_xchg(&ainka_state, r->target_state) : atomic_read(&ainka_state);
	if (r->has_rec && rec_set(r->rec_key, r->rec_value, GFP_ATOMIC))
		pr_warn_ratelimited("rule %u: cannot set recommendation %s\n",
				    r->id, r->rec_key);
	ev.state = r->target_state ? r->target_state : r->prev_state;
	ev.prev_state = r->prev_state;
	atomic64_inc(&r->hits);
	atomic64_inc(&stat_decisions);
	/* The decision first: the state change it implies is announced
	 * right after, so that it does not delay the decision. */
	ainka_publish(&ev);
	ainka_record_latency(ev.latency_ns);
	if (r->target_state && r->prev_state != r->target_state) {
		struct ainka_event sc = {
			.type = AINKA_EVENT_STATE_CHANGE,
			.state = r->target_state,
			.prev_state = r->prev_state,
		};

		ainka_publish(&sc);
	}
	if (READ_ONCE(debug))
		pr_info_ratelimited("rule %u fired: metric %u value %lld, latency %llu ns\n",
				    r->id, r->metric, v, ev.latency_ns);
}

static enum hrtimer_restart ainka_sample(struct hrtimer *t)
{
	u64 now = ktime_get_ns();
	unsigned long avail = si_mem_available();
	unsigned long total = totalram_pages();
	unsigned int interval = READ_ONCE(active_interval_ms);
	unsigned int thr = READ_ONCE(emergency_threshold);
	struct ainka_rule *r;
	bool queue = false;
	s64 pct;

	metric_store(AINKA_METRIC_MEM_AVAILABLE_KB, (s64)avail << (PAGE_SHIFT - 10));
	pct = total ? (s64)avail * 100 / total : 0;
	metric_store(AINKA_METRIC_MEM_AVAILABLE_PCT, pct);
	metric_store(AINKA_METRIC_LOAD1_MILLI,
		     ((avenrun[0] + FIXED_1 / 200) * 1000) >> FSHIFT);

	/* The built-in emergency rule: edge-triggered on the threshold. */
	if (thr && pct < thr &&
	    atomic_read(&ainka_state) != AINKA_STATE_EMERGENCY)
		queue = true;

	rcu_read_lock();
	list_for_each_entry_rcu(r, &ainka_rules, list) {
		s64 v;

		if (!test_bit(r->metric, &metric_have))
			continue;
		v = atomic64_read(&metric_val[r->metric]);
		if (rule_cmp(r->cmp, v, r->threshold)) {
			if (!r->first_true_ns)
				r->first_true_ns = now;
			if (!test_bit(RULE_ACTIVE, &r->flags) &&
			    now - r->first_true_ns >= (u64)r->for_ms * NSEC_PER_MSEC) {
				set_bit(RULE_ACTIVE, &r->flags);
				rule_fire(r, now, v);
				if (r->action == AINKA_ACTION_RENICE ||
				    r->action == AINKA_ACTION_READAHEAD) {
					set_bit(RULE_ACT, &r->flags);
					queue = true;
				}
			}
		} else {
			r->first_true_ns = 0;
			if (test_and_clear_bit(RULE_ACTIVE, &r->flags)) {
				set_bit(RULE_RECOVER, &r->flags);
				queue = true;
			}
		}
	}
	rcu_read_unlock();

	if (queue)
		queue_work(ainka_wq, &decide_work);
	if (++slow_tick * interval >= 10) {
		slow_tick = 0;
		queue_work(ainka_wq, &slow_work);
	}
	atomic64_inc(&stat_samples);
	now = ktime_get_ns() - now;
	atomic64_add(now, &stat_sample_cost_ns);
	WRITE_ONCE(cost_ring[cost_next], (u32)min_t(u64, now, U32_MAX));
	cost_next = (cost_next + 1) % AINKA_LAT_RING;
	hrtimer_forward_now(t, ms_to_ktime(interval));
	return HRTIMER_RESTART;
}

/* "some avg10=1.23 ..." -> 123 */
static int psi_parse_avg10(const char *buf, s64 *out)
{
	unsigned int whole, frac;

	if (sscanf(buf, "some avg10=%u.%u", &whole, &frac) != 2)
		return -EINVAL;
	*out = (s64)whole * 100 + frac;
	return 0;
}

/* PSI totals of the whole system. psi_system is not exported to modules,
 * so read what user space reads: the cgroup2 root's pressure files
 * (kernfs, readable with kernel_read), or /proc/pressure where that file
 * supports read_iter (kernel_read refuses, loudly, files that do not). */
static const char *const psi_dirs[] = {
	"/sys/fs/cgroup/", "/sys/fs/cgroup/unified/", "/proc/pressure/",
};

static void psi_read(const char *res, u32 metric)
{
	char path[64], buf[128];
	struct file *f;
	loff_t pos = 0;
	unsigned int i;
	ssize_t n;
	s64 v;

	for (i = 0; i < ARRAY_SIZE(psi_dirs); i++) {
		snprintf(path, sizeof(path), "%s%s%s", psi_dirs[i], res,
			 i < 2 ? ".pressure" : "");
		f = filp_open(path, O_RDONLY, 0);
		if (IS_ERR(f))
			continue;
		if (!f->f_op->read_iter) {
			filp_close(f, NULL);
			continue;
		}
		n = kernel_read(f, buf, sizeof(buf) - 1, &pos);
		filp_close(f, NULL);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (!psi_parse_avg10(buf, &v)) {
			metric_store(metric, v);
			return;
		}
	}
	/* No PSI here (kernel without it, no cgroup2): the metric stays absent. */
}

static void ainka_slow(struct work_struct *w)
{
	struct task_struct *g, *t;
	u64 now = ktime_get_ns();
	s64 running = 0;

	rcu_read_lock();
	for_each_process_thread(g, t)
		if (task_is_running(t))
			running++;
	rcu_read_unlock();
	metric_store(AINKA_METRIC_NR_RUNNING, running);

	if (now - psi_last_ns >= NSEC_PER_SEC) {
		psi_last_ns = now;
		psi_read("cpu", AINKA_METRIC_PSI_CPU_SOME);
		psi_read("memory", AINKA_METRIC_PSI_MEM_SOME);
		psi_read("io", AINKA_METRIC_PSI_IO_SOME);
	}
}

static void rule_act_locked(struct ainka_rule *r)
{
	struct pid *pid;
	s64 prev;
	int err;

	switch (r->action) {
	case AINKA_ACTION_RENICE:
		pid = r->act_pid ? find_get_pid(r->act_pid) : ainka_top_consumer();
		if (!pid) {
			err = -ESRCH;
			break;
		}
		err = ainka_actuate_locked(AINKA_ACTION_RENICE, pid, 0,
					   r->act_value, r->id, &prev, NULL);
		break;
	case AINKA_ACTION_READAHEAD:
		err = ainka_actuate_locked(AINKA_ACTION_READAHEAD, NULL,
					   (dev_t)r->act_dev,
					   r->act_value, r->id, &prev, NULL);
		break;
	default:
		err = 0;
	}
	if (err)
		pr_warn_ratelimited("rule %u: actuation failed: %d\n", r->id, err);
}

static void rule_recover_locked(struct ainka_rule *r)
{
	struct ainka_event ev = {
		.type = AINKA_EVENT_RECOVERY,
		.rule_id = r->id,
		.action = r->action,
		.metric = r->metric,
		.threshold = r->threshold,
	};

	ainka_restore_locked(false, r->id);
	/* Leave the rule's state only if nobody moved on meanwhile. */
	if (r->target_state &&
	    atomic_cmpxchg(&ainka_state, r->target_state, r->prev_state) == r->target_state) {
		struct ainka_event sc = {
			.type = AINKA_EVENT_STATE_CHANGE,
			.state = r->prev_state,
			.prev_state = r->target_state,
		};

		ainka_publish(&sc);
	}
	ev.state = atomic_read(&ainka_state);
	ev.prev_state = r->target_state;
	ainka_publish(&ev);
}

static void ainka_decide(struct work_struct *w)
{
	unsigned int thr = READ_ONCE(emergency_threshold);
	struct ainka_rule *r;
	s64 pct;

	mutex_lock(&ainka_mutex);
	list_for_each_entry(r, &ainka_rules, list) {
		if (test_and_clear_bit(RULE_ACT, &r->flags))
			rule_act_locked(r);
		if (test_and_clear_bit(RULE_RECOVER, &r->flags))
			rule_recover_locked(r);
	}
	mutex_unlock(&ainka_mutex);

	pct = atomic64_read(&metric_val[AINKA_METRIC_MEM_AVAILABLE_PCT]);
	if (thr && test_bit(AINKA_METRIC_MEM_AVAILABLE_PCT, &metric_have) && pct < thr &&
	    ainka_change_state(AINKA_STATE_EMERGENCY) != AINKA_STATE_EMERGENCY)
		pr_warn("available memory %lld%% below emergency_threshold %u%%: emergency\n",
			pct, thr);
}

static void ainka_sampler_start_locked(void)
{
	lockdep_assert_held(&ainka_mutex);
	if (ainka_stopping)
		return;
	WRITE_ONCE(active_interval_ms, READ_ONCE(sample_interval_ms));
	hrtimer_start(&sampler, ms_to_ktime(active_interval_ms), HRTIMER_MODE_REL_SOFT);
}

/* Reset: undo every actuation, re-arm every rule, back to learning. The
 * sampler is stopped meanwhile so that it cannot re-mark a rule halfway. */
static void ainka_reset_locked(void)
{
	struct ainka_rule *r;
	int i;

	lockdep_assert_held(&ainka_mutex);
	hrtimer_cancel(&sampler);
	ainka_restore_locked(true, 0);
	list_for_each_entry(r, &ainka_rules, list) {
		r->first_true_ns = 0;
		r->flags = 0;
	}
	for (i = 0; i < AINKA_DETECTORS; i++) {
		spin_lock_irq(&detectors[i].lock);
		detectors[i].n = 0;
		detectors[i].mean = 0;
		detectors[i].var = 0;
		spin_unlock_irq(&detectors[i].lock);
	}
	ainka_change_state(AINKA_STATE_LEARNING);
	ainka_sampler_start_locked();
}

/* ---- exported API ---- */

u32 ainka_get_state(void)
{
	return atomic_read(&ainka_state);
}
EXPORT_SYMBOL_GPL(ainka_get_state);

int ainka_set_state(u32 state)
{
	if (!state || state > AINKA_STATE_MAX)
		return -EINVAL;
	ainka_change_state(state);
	return 0;
}
EXPORT_SYMBOL_GPL(ainka_set_state);

int ainka_register_event(const char *source, u32 metric, s64 value)
{
	struct ainka_event ev = {
		.type = AINKA_EVENT_KERNEL,
		.metric = metric,
		.value = value,
		.state = atomic_read(&ainka_state),
		.source = source,
	};

	if (!source || !*source)
		return -EINVAL;
	ainka_publish(&ev);
	return 0;
}
EXPORT_SYMBOL_GPL(ainka_register_event);

int ainka_detect_anomaly(u32 metric, s64 value)
{
	struct ainka_detector *d;
	unsigned long flags;
	s64 x, dev_fp, dc;
	u64 sq_fp;
	int ret = 0;

	if (metric >= AINKA_DETECTORS)
		return -EINVAL;
	d = &detectors[metric];
	/* Fixed point, 8 fractional bits: integer EWMAs of small signals
	 * would otherwise truncate to a zero variance. */
	x = clamp_t(s64, value, -(1LL << 40), 1LL << 40);
	spin_lock_irqsave(&d->lock, flags);
	if (!d->n) {
		d->mean = x << 8;
		d->var = 0;
		d->n = 1;
		goto out;
	}
	dev_fp = (x << 8) - d->mean;
	dc = clamp_t(s64, dev_fp, -(1LL << 30), 1LL << 30);
	sq_fp = (u64)(dc * dc) >> 8;		/* dev^2, 8 fractional bits */
	/* 16 observations to warm up, then dev^2 > 9 var + 1: 3 sigma, and
	 * at least one unit away from the mean. */
	if (d->n >= 16 && sq_fp > 9 * d->var + 256)
		ret = 1;
	d->mean += dev_fp / 8;
	if (sq_fp >= d->var)
		d->var += (sq_fp - d->var) / 8;
	else
		d->var -= (d->var - sq_fp) / 8;
	if (d->n < U32_MAX)
		d->n++;
out:
	spin_unlock_irqrestore(&d->lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(ainka_detect_anomaly);

s64 ainka_request_prediction(u32 metric, u32 horizon_ms)
{
	struct ainka_event ev = {
		.type = AINKA_EVENT_PREDICTION_REQUEST,
		.metric = metric,
		.horizon_ms = horizon_ms,
		.state = atomic_read(&ainka_state),
	};

	if (!metric || !horizon_ms)
		return -EINVAL;
	if (metric <= AINKA_METRIC_MAX && test_bit(metric, &metric_have))
		ev.value = atomic64_read(&metric_val[metric]);
	return ainka_publish(&ev);
}
EXPORT_SYMBOL_GPL(ainka_request_prediction);

/* ---- generic netlink ---- */

/* A missing attribute: the extack names it (and marks it missing). */
#define MISSING(info, attr) ({						\
	(info)->attrs[attr] ? false : ({				\
		NL_SET_ERR_ATTR_MISS((info)->extack, NULL, attr);	\
		GENL_SET_ERR_MSG(info, KBUILD_MODNAME ": missing attribute " #attr); \
		atomic64_inc(&stat_rejected);				\
		true;							\
	});								\
})

#define REJECT(info, msg, err) ({				\
	GENL_SET_ERR_MSG(info, KBUILD_MODNAME ": " msg);	\
	atomic64_inc(&stat_rejected);				\
	(err);							\
})

/* Not const: 6.1's nla_policy points at a mutable range. */
static struct netlink_range_validation for_ms_range = {
	.min = 0, .max = AINKA_MAX_FOR_MS,
};

static struct netlink_range_validation prio_range = {
	.min = 0, .max = 65535,
};

static const struct nla_policy status_policy[AINKA_A_MAX + 1] = {
};

static const struct nla_policy set_policy_policy[AINKA_A_MAX + 1] = {
	[AINKA_A_POLICY_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[AINKA_A_POLICY_METRIC] = NLA_POLICY_RANGE(NLA_U32, 1, AINKA_METRIC_MAX),
	[AINKA_A_POLICY_CMP] = NLA_POLICY_RANGE(NLA_U32, 1, AINKA_CMP_MAX),
	[AINKA_A_POLICY_THRESHOLD] = { .type = NLA_S64 },
	[AINKA_A_POLICY_FOR_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &for_ms_range),
	[AINKA_A_POLICY_ACTION] = NLA_POLICY_RANGE(NLA_U32, 1, AINKA_ACTION_READAHEAD),
	[AINKA_A_POLICY_PRIORITY] = NLA_POLICY_FULL_RANGE(NLA_U32, &prio_range),
	[AINKA_A_POLICY_TARGET_STATE] = NLA_POLICY_RANGE(NLA_U32, 0, AINKA_STATE_MAX),
	[AINKA_A_REC_KEY] = { .type = NLA_NUL_STRING, .len = AINKA_REC_KEY_MAX - 1 },
	[AINKA_A_REC_VALUE] = { .type = NLA_S64 },
	[AINKA_A_ACT_PID] = { .type = NLA_U32 },
	[AINKA_A_ACT_DEV] = { .type = NLA_U32 },
	[AINKA_A_ACT_VALUE] = { .type = NLA_S64 },
};

static const struct nla_policy policy_id_policy[AINKA_A_MAX + 1] = {
	[AINKA_A_POLICY_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy set_rec_policy[AINKA_A_MAX + 1] = {
	[AINKA_A_REC_KEY] = { .type = NLA_NUL_STRING, .len = AINKA_REC_KEY_MAX - 1 },
	[AINKA_A_REC_VALUE] = { .type = NLA_S64 },
};

static const struct nla_policy rec_key_policy[AINKA_A_MAX + 1] = {
	[AINKA_A_REC_KEY] = { .type = NLA_NUL_STRING, .len = AINKA_REC_KEY_MAX - 1 },
};

static const struct nla_policy set_state_policy[AINKA_A_MAX + 1] = {
	[AINKA_A_STATE] = NLA_POLICY_RANGE(NLA_U32, 1, AINKA_STATE_MAX),
	[AINKA_A_RESET] = { .type = NLA_FLAG },
};

static const struct nla_policy actuate_policy[AINKA_A_MAX + 1] = {
	[AINKA_A_ACT_KIND] = NLA_POLICY_RANGE(NLA_U32, AINKA_ACTION_RENICE, AINKA_ACTION_RESTORE),
	[AINKA_A_ACT_PID] = { .type = NLA_U32 },
	[AINKA_A_ACT_DEV] = { .type = NLA_U32 },
	[AINKA_A_ACT_VALUE] = { .type = NLA_S64 },
};

/* nla_parse keeps the last of duplicated attributes; the protocol
 * refuses them instead, so that a request means one thing. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
static int ainka_pre_doit(const struct genl_split_ops *ops, struct sk_buff *skb,
			  struct genl_info *info)
#else
static int ainka_pre_doit(const struct genl_ops *ops, struct sk_buff *skb,
			  struct genl_info *info)
#endif
{
	DECLARE_BITMAP(seen, AINKA_A_MAX + 1);
	const struct nlattr *nla;
	int rem;

	bitmap_zero(seen, AINKA_A_MAX + 1);
	nla_for_each_attr(nla, nlmsg_attrdata(info->nlhdr, GENL_HDRLEN),
			  nlmsg_attrlen(info->nlhdr, GENL_HDRLEN), rem) {
		int type = nla_type(nla);

		if (type > AINKA_A_MAX)
			continue;	/* the policy has refused it already */
		if (__test_and_set_bit(type, seen)) {
			NL_SET_ERR_MSG_ATTR(info->extack, nla,
					    KBUILD_MODNAME ": duplicate attribute");
			atomic64_inc(&stat_rejected);
			return -EINVAL;
		}
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Median of the recorded sample costs (racy snapshot: statistics only). */
static u64 cost_median(u64 samples)
{
	unsigned int n = min_t(u64, samples, AINKA_LAT_RING), i;
	u64 *copy, med;

	if (!n)
		return 0;
	copy = kmalloc_array(n, sizeof(u64), GFP_KERNEL);
	if (!copy)
		return 0;
	for (i = 0; i < n; i++)
		copy[i] = READ_ONCE(cost_ring[i]);
	sort(copy, n, sizeof(u64), cmp_u64, NULL);
	med = copy[(n - 1) / 2];
	kfree(copy);
	return med;
}

static void lat_percentiles(u64 *p50, u64 *p99, u64 *max, u64 *count)
{
	unsigned int n, i;
	u64 *copy;

	*p50 = *p99 = 0;
	copy = kmalloc_array(AINKA_LAT_RING, sizeof(u64), GFP_KERNEL);
	spin_lock_irq(&lat_lock);
	n = lat_count;
	*max = lat_max;
	if (copy)
		for (i = 0; i < n; i++)
			copy[i] = lat_ring[i];
	spin_unlock_irq(&lat_lock);
	*count = n;
	if (!copy || !n) {
		kfree(copy);
		return;
	}
	sort(copy, n, sizeof(u64), cmp_u64, NULL);
	*p50 = copy[(n - 1) * 50 / 100];
	*p99 = copy[(n - 1) * 99 / 100];
	kfree(copy);
}

static int ainka_get_status(struct sk_buff *skb, struct genl_info *info)
{
	u64 p50, p99, max, count, samples;
	struct sk_buff *msg;
	void *hdr;

	lat_percentiles(&p50, &p99, &max, &count);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ainka_family, 0, AINKA_CMD_GET_STATUS);
	if (!hdr)
		goto nospace;
	samples = atomic64_read(&stat_samples);
	mutex_lock(&ainka_mutex);
	if (nla_put_u32(msg, AINKA_A_VERSION, AINKA_GENL_VERSION) ||
	    nla_put_u32(msg, AINKA_A_STATE, atomic_read(&ainka_state)) ||
	    nla_put_u32(msg, AINKA_A_SAMPLE_INTERVAL_US,
			READ_ONCE(active_interval_ms) * 1000) ||
	    nla_put_u64_64bit(msg, AINKA_A_SAMPLES, samples, AINKA_A_UNSPEC) ||
	    nla_put_u64_64bit(msg, AINKA_A_DECISIONS, atomic64_read(&stat_decisions), AINKA_A_UNSPEC) ||
	    nla_put_u64_64bit(msg, AINKA_A_REJECTED, atomic64_read(&stat_rejected), AINKA_A_UNSPEC) ||
	    nla_put_u64_64bit(msg, AINKA_A_EVENTS_SENT, atomic64_read(&stat_events_sent), AINKA_A_UNSPEC) ||
	    nla_put_u64_64bit(msg, AINKA_A_EVENTS_DROPPED, atomic64_read(&stat_events_dropped), AINKA_A_UNSPEC) ||
	    nla_put_u64_64bit(msg, AINKA_A_LAT_P50_NS, p50, AINKA_A_UNSPEC) ||
	    nla_put_u64_64bit(msg, AINKA_A_LAT_P99_NS, p99, AINKA_A_UNSPEC) ||
	    nla_put_u64_64bit(msg, AINKA_A_LAT_MAX_NS, max, AINKA_A_UNSPEC) ||
	    nla_put_u64_64bit(msg, AINKA_A_LAT_COUNT, count, AINKA_A_UNSPEC) ||
	    nla_put_u64_64bit(msg, AINKA_A_SAMPLE_COST_NS,
			      samples ? atomic64_read(&stat_sample_cost_ns) / samples : 0,
			      AINKA_A_UNSPEC) ||
	    nla_put_u64_64bit(msg, AINKA_A_SAMPLE_COST_P50_NS, cost_median(samples), AINKA_A_UNSPEC) ||
	    nla_put_u32(msg, AINKA_A_NR_POLICIES, nr_rules) ||
	    nla_put_u32(msg, AINKA_A_NR_RECS, READ_ONCE(nr_recs)) ||
	    nla_put_u32(msg, AINKA_A_NR_ACTUATIONS, nr_acts) ||
	    nla_put_u64_64bit(msg, AINKA_A_UPTIME_NS, ktime_get_ns() - ainka_load_ns, AINKA_A_UNSPEC)) {
		mutex_unlock(&ainka_mutex);
		goto nospace;
	}
	mutex_unlock(&ainka_mutex);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static struct ainka_rule *rule_find_locked(u32 id)
{
	struct ainka_rule *r;

	list_for_each_entry(r, &ainka_rules, list)
		if (r->id == id)
			return r;
	return NULL;
}

/* Keep the list ordered by priority (desc) then id so that evaluation
 * and dumps are deterministic. */
static void rule_insert_locked(struct ainka_rule *nr)
{
	struct ainka_rule *r;

	rules_gen++;
	list_for_each_entry(r, &ainka_rules, list) {
		if (nr->priority > r->priority ||
		    (nr->priority == r->priority && nr->id < r->id)) {
			list_add_tail_rcu(&nr->list, &r->list);
			return;
		}
	}
	list_add_tail_rcu(&nr->list, &ainka_rules);
}

static void rule_remove_locked(struct ainka_rule *r)
{
	rules_gen++;
	list_del_rcu(&r->list);
	ainka_restore_locked(false, r->id);
	call_rcu(&r->rcu, rule_free_rcu);
}

static int ainka_set_policy(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct ainka_rule *r, *old;
	int err = 0;

	if (MISSING(info, AINKA_A_POLICY_ID) ||
	    MISSING(info, AINKA_A_POLICY_METRIC) ||
	    MISSING(info, AINKA_A_POLICY_CMP) ||
	    MISSING(info, AINKA_A_POLICY_THRESHOLD) ||
	    MISSING(info, AINKA_A_POLICY_ACTION))
		return -EINVAL;
	if (!!a[AINKA_A_REC_KEY] != !!a[AINKA_A_REC_VALUE])
		return REJECT(info, "REC_KEY and REC_VALUE go together", -EINVAL);
	if (a[AINKA_A_REC_KEY] && !rec_key_valid(nla_data(a[AINKA_A_REC_KEY])))
		return REJECT(info, "recommendation key must be non-empty [A-Za-z0-9_.:-]", -EINVAL);

	r = ainka_zalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->id = nla_get_u32(a[AINKA_A_POLICY_ID]);
	r->metric = nla_get_u32(a[AINKA_A_POLICY_METRIC]);
	r->cmp = nla_get_u32(a[AINKA_A_POLICY_CMP]);
	r->threshold = nla_get_s64(a[AINKA_A_POLICY_THRESHOLD]);
	r->action = nla_get_u32(a[AINKA_A_POLICY_ACTION]);
	if (a[AINKA_A_POLICY_FOR_MS])
		r->for_ms = nla_get_u32(a[AINKA_A_POLICY_FOR_MS]);
	if (a[AINKA_A_POLICY_PRIORITY])
		r->priority = nla_get_u32(a[AINKA_A_POLICY_PRIORITY]);
	if (a[AINKA_A_POLICY_TARGET_STATE])
		r->target_state = nla_get_u32(a[AINKA_A_POLICY_TARGET_STATE]);
	if (a[AINKA_A_REC_KEY]) {
		r->has_rec = true;
		nla_strscpy(r->rec_key, a[AINKA_A_REC_KEY], sizeof(r->rec_key));
		r->rec_value = nla_get_s64(a[AINKA_A_REC_VALUE]);
	}
	if (a[AINKA_A_ACT_PID])
		r->act_pid = nla_get_u32(a[AINKA_A_ACT_PID]);
	if (a[AINKA_A_ACT_DEV])
		r->act_dev = nla_get_u32(a[AINKA_A_ACT_DEV]);
	if (a[AINKA_A_ACT_VALUE])
		r->act_value = nla_get_s64(a[AINKA_A_ACT_VALUE]);

	switch (r->action) {
	case AINKA_ACTION_RENICE:
		if (!a[AINKA_A_ACT_VALUE] || r->act_value < AINKA_NICE_MIN ||
		    r->act_value > AINKA_NICE_MAX) {
			err = REJECT(info, "RENICE needs ACT_VALUE in -20..19", -ERANGE);
			goto free;
		}
		if (a[AINKA_A_ACT_DEV]) {
			err = REJECT(info, "ACT_DEV is for READAHEAD", -EINVAL);
			goto free;
		}
		break;
	case AINKA_ACTION_READAHEAD:
		if (!a[AINKA_A_ACT_DEV] || !a[AINKA_A_ACT_VALUE] || r->act_value < 0 ||
		    r->act_value > AINKA_RA_PAGES_MAX) {
			err = REJECT(info, "READAHEAD needs ACT_DEV and ACT_VALUE in 0..65536", -ERANGE);
			goto free;
		}
		if (a[AINKA_A_ACT_PID]) {
			err = REJECT(info, "ACT_PID is for RENICE", -EINVAL);
			goto free;
		}
		break;
	default:
		if (a[AINKA_A_ACT_PID] || a[AINKA_A_ACT_DEV] || a[AINKA_A_ACT_VALUE]) {
			err = REJECT(info, "NOTIFY takes no actuation arguments", -EINVAL);
			goto free;
		}
	}

	mutex_lock(&ainka_mutex);
	old = rule_find_locked(r->id);
	if (!old && nr_rules >= AINKA_MAX_POLICIES) {
		mutex_unlock(&ainka_mutex);
		err = REJECT(info, "too many policies (1024)", -ENOSPC);
		goto free;
	}
	if (old) {
		rule_remove_locked(old);
		nr_rules--;
	}
	rule_insert_locked(r);
	nr_rules++;
	mutex_unlock(&ainka_mutex);
	return 0;
free:
	ainka_free(r);
	return err;
}

static int ainka_del_policy(struct sk_buff *skb, struct genl_info *info)
{
	struct ainka_rule *r;

	if (MISSING(info, AINKA_A_POLICY_ID))
		return -EINVAL;
	mutex_lock(&ainka_mutex);
	r = rule_find_locked(nla_get_u32(info->attrs[AINKA_A_POLICY_ID]));
	if (!r) {
		mutex_unlock(&ainka_mutex);
		return REJECT(info, "no policy with this id", -ENOENT);
	}
	rule_remove_locked(r);
	nr_rules--;
	mutex_unlock(&ainka_mutex);
	return 0;
}

/* cb: the dump this message belongs to, NULL for a single reply. */
static int rule_fill(struct sk_buff *skb, const struct ainka_rule *r, u32 portid,
		     u32 seq, int flags, struct netlink_callback *cb)
{
	void *hdr = genlmsg_put(skb, portid, seq, &ainka_family, flags,
				AINKA_CMD_GET_POLICY);

	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (nla_put_u32(skb, AINKA_A_POLICY_ID, r->id) ||
	    nla_put_u32(skb, AINKA_A_POLICY_METRIC, r->metric) ||
	    nla_put_u32(skb, AINKA_A_POLICY_CMP, r->cmp) ||
	    nla_put_s64(skb, AINKA_A_POLICY_THRESHOLD, r->threshold, AINKA_A_UNSPEC) ||
	    nla_put_u32(skb, AINKA_A_POLICY_FOR_MS, r->for_ms) ||
	    nla_put_u32(skb, AINKA_A_POLICY_ACTION, r->action) ||
	    nla_put_u32(skb, AINKA_A_POLICY_PRIORITY, r->priority) ||
	    nla_put_u32(skb, AINKA_A_POLICY_TARGET_STATE, r->target_state) ||
	    nla_put_u64_64bit(skb, AINKA_A_POLICY_HITS, atomic64_read(&r->hits), AINKA_A_UNSPEC) ||
	    nla_put_u8(skb, AINKA_A_POLICY_ACTIVE, test_bit(RULE_ACTIVE, &r->flags)))
		goto cancel;
	if (r->has_rec && (nla_put_string(skb, AINKA_A_REC_KEY, r->rec_key) ||
			   nla_put_s64(skb, AINKA_A_REC_VALUE, r->rec_value, AINKA_A_UNSPEC)))
		goto cancel;
	if (r->action == AINKA_ACTION_RENICE &&
	    (nla_put_u32(skb, AINKA_A_ACT_PID, r->act_pid) ||
	     nla_put_s64(skb, AINKA_A_ACT_VALUE, r->act_value, AINKA_A_UNSPEC)))
		goto cancel;
	if (r->action == AINKA_ACTION_READAHEAD &&
	    (nla_put_u32(skb, AINKA_A_ACT_DEV, r->act_dev) ||
	     nla_put_s64(skb, AINKA_A_ACT_VALUE, r->act_value, AINKA_A_UNSPEC)))
		goto cancel;
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int ainka_get_policy(struct sk_buff *skb, struct genl_info *info)
{
	struct ainka_rule *r;
	struct sk_buff *msg;
	int err;

	if (MISSING(info, AINKA_A_POLICY_ID))
		return -EINVAL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&ainka_mutex);
	r = rule_find_locked(nla_get_u32(info->attrs[AINKA_A_POLICY_ID]));
	if (!r) {
		mutex_unlock(&ainka_mutex);
		nlmsg_free(msg);
		return REJECT(info, "no policy with this id", -ENOENT);
	}
	err = rule_fill(msg, r, info->snd_portid, info->snd_seq, 0, NULL);
	mutex_unlock(&ainka_mutex);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* cb->args[0]: how many rules earlier parts of the dump have sent. */
static int ainka_dump_policy(struct sk_buff *skb, struct netlink_callback *cb)
{
	long skip = cb->args[0], i = 0;
	struct ainka_rule *r;

	mutex_lock(&ainka_mutex);
	/* A change between two parts of the dump shifts positions: flag the
	 * dump interrupted (NLM_F_DUMP_INTR) so that the reader retries. */
	cb->seq = rules_gen;
	list_for_each_entry(r, &ainka_rules, list) {
		if (i++ < skip)
			continue;
		if (rule_fill(skb, r, NETLINK_CB(cb->skb).portid,
			      cb->nlh->nlmsg_seq, NLM_F_MULTI, cb)) {
			i--;
			break;
		}
	}
	mutex_unlock(&ainka_mutex);
	cb->args[0] = i;
	return skb->len;
}

static int ainka_set_rec(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	if (MISSING(info, AINKA_A_REC_KEY) ||
	    MISSING(info, AINKA_A_REC_VALUE))
		return -EINVAL;
	if (!rec_key_valid(nla_data(info->attrs[AINKA_A_REC_KEY])))
		return REJECT(info, "recommendation key must be non-empty [A-Za-z0-9_.:-]", -EINVAL);
	err = rec_set(nla_data(info->attrs[AINKA_A_REC_KEY]),
		      nla_get_s64(info->attrs[AINKA_A_REC_VALUE]), GFP_KERNEL);
	if (err == -ENOSPC)
		return REJECT(info, "recommendation table full (4096)", err);
	return err;
}

static int ainka_del_rec(struct sk_buff *skb, struct genl_info *info)
{
	struct ainka_rec *r;

	if (MISSING(info, AINKA_A_REC_KEY))
		return -EINVAL;
	spin_lock_irq(&rec_lock);
	r = rec_find_rcu(nla_data(info->attrs[AINKA_A_REC_KEY]));
	if (!r) {
		spin_unlock_irq(&rec_lock);
		return REJECT(info, "no recommendation with this key", -ENOENT);
	}
	hash_del_rcu(&r->node);
	nr_recs--;
	recs_gen++;
	spin_unlock_irq(&rec_lock);
	call_rcu(&r->rcu, rec_free_rcu);
	return 0;
}

static int rec_fill(struct sk_buff *skb, const char *key, s64 value, u32 portid,
		    u32 seq, int flags, struct netlink_callback *cb)
{
	void *hdr = genlmsg_put(skb, portid, seq, &ainka_family, flags,
				AINKA_CMD_GET_RECOMMENDATION);

	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	if (nla_put_string(skb, AINKA_A_REC_KEY, key) ||
	    nla_put_s64(skb, AINKA_A_REC_VALUE, value, AINKA_A_UNSPEC)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int ainka_get_rec(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	const char *key;
	s64 value;
	int err;

	if (MISSING(info, AINKA_A_REC_KEY))
		return -EINVAL;
	key = nla_data(info->attrs[AINKA_A_REC_KEY]);
	if (ainka_get_recommendation(key, &value))
		return REJECT(info, "no recommendation with this key", -ENOENT);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	err = rec_fill(msg, key, value, info->snd_portid, info->snd_seq, 0, NULL);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* cb->args[0]: bucket, cb->args[1]: entries of that bucket already sent. */
static int ainka_dump_rec(struct sk_buff *skb, struct netlink_callback *cb)
{
	long bkt = cb->args[0], skip = cb->args[1], i;
	struct ainka_rec *r;

	cb->seq = READ_ONCE(recs_gen);
	rcu_read_lock();
	for (; bkt < HASH_SIZE(ainka_recs); bkt++, skip = 0) {
		i = 0;
		hlist_for_each_entry_rcu(r, &ainka_recs[bkt], node) {
			if (i++ < skip)
				continue;
			if (rec_fill(skb, r->key, READ_ONCE(r->value), NETLINK_CB(cb->skb).portid,
				     cb->nlh->nlmsg_seq, NLM_F_MULTI, cb)) {
				cb->args[0] = bkt;
				cb->args[1] = i - 1;
				goto out;
			}
		}
	}
	cb->args[0] = bkt;
	cb->args[1] = 0;
out:
	rcu_read_unlock();
	return skb->len;
}

static int ainka_set_state_cmd(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;

	if (!a[AINKA_A_STATE] && !a[AINKA_A_RESET])
		return REJECT(info, "SET_STATE needs STATE and/or RESET", -EINVAL);
	mutex_lock(&ainka_mutex);
	if (a[AINKA_A_RESET])
		ainka_reset_locked();
	mutex_unlock(&ainka_mutex);
	if (a[AINKA_A_STATE])
		ainka_change_state(nla_get_u32(a[AINKA_A_STATE]));
	return 0;
}

static int ainka_actuate_cmd(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct sk_buff *msg;
	struct pid *pid = NULL;
	dev_t dev = 0;
	u32 kind, resolved = 0;
	s64 value = 0, prev = 0;
	void *hdr;
	int err;

	if (MISSING(info, AINKA_A_ACT_KIND))
		return -EINVAL;
	kind = nla_get_u32(a[AINKA_A_ACT_KIND]);
	if (kind == AINKA_ACTION_RESTORE) {
		if (a[AINKA_A_ACT_PID] || a[AINKA_A_ACT_DEV] || a[AINKA_A_ACT_VALUE])
			return REJECT(info, "RESTORE takes no arguments", -EINVAL);
		mutex_lock(&ainka_mutex);
		ainka_restore_locked(true, 0);
		mutex_unlock(&ainka_mutex);
		return 0;
	}
	if (MISSING(info, AINKA_A_ACT_VALUE))
		return -EINVAL;
	value = nla_get_s64(a[AINKA_A_ACT_VALUE]);
	if (kind == AINKA_ACTION_RENICE) {
		if (a[AINKA_A_ACT_DEV])
			return REJECT(info, "ACT_DEV is for READAHEAD", -EINVAL);
		if (value < AINKA_NICE_MIN || value > AINKA_NICE_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[AINKA_A_ACT_VALUE],
					    KBUILD_MODNAME ": nice value out of -20..19");
			atomic64_inc(&stat_rejected);
			return -ERANGE;
		}
		if (a[AINKA_A_ACT_PID] && nla_get_u32(a[AINKA_A_ACT_PID])) {
			pid = find_get_pid(nla_get_u32(a[AINKA_A_ACT_PID]));
			if (!pid)
				return REJECT(info, "no such process", -ESRCH);
		} else {
			pid = ainka_top_consumer();
			if (!pid)
				return REJECT(info, "no user task to renice", -ESRCH);
		}
		resolved = pid_nr(pid);
	} else {
		if (a[AINKA_A_ACT_PID])
			return REJECT(info, "ACT_PID is for RENICE", -EINVAL);
		if (MISSING(info, AINKA_A_ACT_DEV))
		return -EINVAL;
		if (value < 0 || value > AINKA_RA_PAGES_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[AINKA_A_ACT_VALUE],
					    KBUILD_MODNAME ": ra_pages out of 0..65536");
			atomic64_inc(&stat_rejected);
			return -ERANGE;
		}
		dev = (dev_t)nla_get_u32(a[AINKA_A_ACT_DEV]);
	}
	mutex_lock(&ainka_mutex);
	err = ainka_actuate_locked(kind, pid, dev, value, 0, &prev, info->extack);
	mutex_unlock(&ainka_mutex);
	if (err) {
		atomic64_inc(&stat_rejected);
		return err;
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ainka_family, 0, AINKA_CMD_ACTUATE);
	if (!hdr || nla_put_u32(msg, AINKA_A_ACT_KIND, kind) ||
	    nla_put_s64(msg, AINKA_A_ACT_PREV, prev, AINKA_A_UNSPEC) ||
	    nla_put_s64(msg, AINKA_A_ACT_VALUE, value, AINKA_A_UNSPEC) ||
	    (resolved && nla_put_u32(msg, AINKA_A_ACT_PID, resolved))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static const struct genl_ops ainka_ops[] = {
	{ .cmd = AINKA_CMD_GET_STATUS, .doit = ainka_get_status,
	  .policy = status_policy, .maxattr = AINKA_A_MAX, .flags = GENL_ADMIN_PERM },
	{ .cmd = AINKA_CMD_SET_POLICY, .doit = ainka_set_policy,
	  .policy = set_policy_policy, .maxattr = AINKA_A_MAX, .flags = GENL_ADMIN_PERM },
	{ .cmd = AINKA_CMD_DEL_POLICY, .doit = ainka_del_policy,
	  .policy = policy_id_policy, .maxattr = AINKA_A_MAX, .flags = GENL_ADMIN_PERM },
	{ .cmd = AINKA_CMD_GET_POLICY, .doit = ainka_get_policy, .dumpit = ainka_dump_policy,
	  .policy = policy_id_policy, .maxattr = AINKA_A_MAX, .flags = GENL_ADMIN_PERM },
	{ .cmd = AINKA_CMD_SET_RECOMMENDATION, .doit = ainka_set_rec,
	  .policy = set_rec_policy, .maxattr = AINKA_A_MAX, .flags = GENL_ADMIN_PERM },
	{ .cmd = AINKA_CMD_GET_RECOMMENDATION, .doit = ainka_get_rec, .dumpit = ainka_dump_rec,
	  .policy = rec_key_policy, .maxattr = AINKA_A_MAX, .flags = GENL_ADMIN_PERM },
	{ .cmd = AINKA_CMD_DEL_RECOMMENDATION, .doit = ainka_del_rec,
	  .policy = rec_key_policy, .maxattr = AINKA_A_MAX, .flags = GENL_ADMIN_PERM },
	{ .cmd = AINKA_CMD_SET_STATE, .doit = ainka_set_state_cmd,
	  .policy = set_state_policy, .maxattr = AINKA_A_MAX, .flags = GENL_ADMIN_PERM },
	{ .cmd = AINKA_CMD_ACTUATE, .doit = ainka_actuate_cmd,
	  .policy = actuate_policy, .maxattr = AINKA_A_MAX, .flags = GENL_ADMIN_PERM },
};

static struct genl_family ainka_family __ro_after_init = {
	.name = AINKA_GENL_NAME,
	.version = AINKA_GENL_VERSION,
	.maxattr = AINKA_A_MAX,
	.netnsok = false,
	.parallel_ops = false,
	.pre_doit = ainka_pre_doit,
	.ops = ainka_ops,
	.n_ops = ARRAY_SIZE(ainka_ops),
	.mcgrps = ainka_mcgrps,
	.n_mcgrps = ARRAY_SIZE(ainka_mcgrps),
	.module = THIS_MODULE,
};

/* ---- /proc/ainka ---- */

static int ainka_proc_show(struct seq_file *m, void *v)
{
	u64 p50, p99, max, count, samples = atomic64_read(&stat_samples);
	struct ainka_rule *r;
	struct ainka_rec *rec;
	struct ainka_act *a;
	u32 state = atomic_read(&ainka_state);
	unsigned int i;
	int bkt;

	lat_percentiles(&p50, &p99, &max, &count);
	seq_printf(m, "version: %d\nstate: %s\n", AINKA_GENL_VERSION,
		   state <= AINKA_STATE_MAX ? state_names[state] : "?");
	seq_printf(m, "sample_interval_ms: %u (running %u)\nemergency_threshold: %u\ndebug: %d\n",
		   READ_ONCE(sample_interval_ms), READ_ONCE(active_interval_ms),
		   READ_ONCE(emergency_threshold),
		   READ_ONCE(debug));
	seq_printf(m, "samples: %llu\ndecisions: %llu\nrejected: %llu\n",
		   samples, (u64)atomic64_read(&stat_decisions),
		   (u64)atomic64_read(&stat_rejected));
	seq_printf(m, "events_sent: %llu\nevents_dropped: %llu\n",
		   (u64)atomic64_read(&stat_events_sent),
		   (u64)atomic64_read(&stat_events_dropped));
	seq_printf(m, "sample_cost_ns: mean %llu p50 %llu\n",
		   samples ? (u64)atomic64_read(&stat_sample_cost_ns) / samples : 0,
		   cost_median(samples));
	seq_printf(m, "latency_ns: p50 %llu p99 %llu max %llu n %llu\n",
		   p50, p99, max, count);
	seq_puts(m, "metrics:");
	for (i = 1; i <= AINKA_METRIC_MAX; i++)
		if (test_bit(i, &metric_have))
			seq_printf(m, " %u=%lld", i, (s64)atomic64_read(&metric_val[i]));
	seq_putc(m, '\n');

	mutex_lock(&ainka_mutex);
	seq_printf(m, "policies: %u\n", nr_rules);
	list_for_each_entry(r, &ainka_rules, list)
		seq_printf(m, "  id=%u metric=%u cmp=%u threshold=%lld for_ms=%u action=%u prio=%u state=%u hits=%llu active=%d last_value=%lld last_ns=%llu\n",
			   r->id, r->metric, r->cmp, r->threshold, r->for_ms,
			   r->action, r->priority, r->target_state,
			   (u64)atomic64_read(&r->hits), test_bit(RULE_ACTIVE, &r->flags),
			   READ_ONCE(r->cond_value), READ_ONCE(r->cond_ns));
	seq_printf(m, "recommendations: %u\n", READ_ONCE(nr_recs));
	rcu_read_lock();
	hash_for_each_rcu(ainka_recs, bkt, rec, node)
		seq_printf(m, "  %s=%lld\n", rec->key, READ_ONCE(rec->value));
	rcu_read_unlock();
	seq_printf(m, "actuations: %u\n", nr_acts);
	list_for_each_entry(a, &ainka_acts, list) {
		if (a->kind == AINKA_ACTION_RENICE)
			seq_printf(m, "  renice pid=%d", pid_nr(a->pid));
		else
			seq_printf(m, "  readahead dev=%u:%u", MAJOR(a->dev), MINOR(a->dev));
		seq_printf(m, " prev=%lld cur=%lld rule=%u\n", a->prev, a->cur, a->rule_id);
	}
	mutex_unlock(&ainka_mutex);
	return 0;
}

static int ainka_proc_open(struct inode *inode, struct file *file)
{
	return single_open(file, ainka_proc_show, NULL);
}

static ssize_t ainka_proc_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *off)
{
	char buf[32];
	char *cmd;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	cmd = strim(buf);
	if (!strcmp(cmd, "debug")) {
		WRITE_ONCE(debug, !READ_ONCE(debug));
	} else if (!strcmp(cmd, "reset")) {
		mutex_lock(&ainka_mutex);
		ainka_reset_locked();
		mutex_unlock(&ainka_mutex);
	} else if (!strcmp(cmd, "emergency")) {
		ainka_change_state(AINKA_STATE_EMERGENCY);
	} else if (!strcmp(cmd, "learning")) {
		ainka_change_state(AINKA_STATE_LEARNING);
	} else if (!strcmp(cmd, "config_update")) {
		/* Re-read the parameters: restart the sampler at the new pace. */
		mutex_lock(&ainka_mutex);
		hrtimer_cancel(&sampler);
		ainka_sampler_start_locked();
		mutex_unlock(&ainka_mutex);
	} else {
		pr_info_ratelimited("/proc/ainka: unknown command '%s' (want debug, reset, emergency, learning, config_update)\n",
				    cmd);
		return -EINVAL;
	}
	return len;
}

static const struct proc_ops ainka_proc_ops = {
	.proc_open = ainka_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
	.proc_write = ainka_proc_write,
};

/* ---- load / unload ---- */

static int __init ainka_init(void)
{
	int i, err;

	ainka_load_ns = ktime_get_ns();
	for (i = 0; i < AINKA_DETECTORS; i++)
		spin_lock_init(&detectors[i].lock);
	ainka_wq = alloc_workqueue("ainka", WQ_HIGHPRI | WQ_UNBOUND, 0);
	if (!ainka_wq)
		return -ENOMEM;
	INIT_WORK(&decide_work, ainka_decide);
	INIT_WORK(&slow_work, ainka_slow);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	hrtimer_setup(&sampler, ainka_sample, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
#else
	hrtimer_init(&sampler, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	sampler.function = ainka_sample;
#endif
	err = genl_register_family(&ainka_family);
	if (err) {
		pr_err("cannot register generic netlink family: %d\n", err);
		goto err_wq;
	}
	WRITE_ONCE(ainka_family_live, true);
	ainka_proc = proc_create("ainka", 0644, NULL, &ainka_proc_ops);
	if (!ainka_proc) {
		pr_err("cannot create /proc/ainka\n");
		err = -ENOMEM;
		goto err_genl;
	}
	mutex_lock(&ainka_mutex);
	ainka_sampler_start_locked();
	mutex_unlock(&ainka_mutex);
	pr_info("loaded: protocol v%d, sample_interval_ms=%u, emergency_threshold=%u\n",
		AINKA_GENL_VERSION, sample_interval_ms, emergency_threshold);
	return 0;

err_genl:
	WRITE_ONCE(ainka_family_live, false);
	genl_unregister_family(&ainka_family);
err_wq:
	destroy_workqueue(ainka_wq);
	return err;
}

static void __exit ainka_exit(void)
{
	struct ainka_rule *r, *rt;
	struct ainka_rec *rec;
	struct hlist_node *tmp;
	int bkt;

	/* Nothing may restart the sampler past this point. */
	mutex_lock(&ainka_mutex);
	ainka_stopping = true;
	mutex_unlock(&ainka_mutex);
	proc_remove(ainka_proc);
	hrtimer_cancel(&sampler);
	cancel_work_sync(&slow_work);
	cancel_work_sync(&decide_work);
	destroy_workqueue(ainka_wq);
	WRITE_ONCE(ainka_family_live, false);
	genl_unregister_family(&ainka_family);

	mutex_lock(&ainka_mutex);
	ainka_restore_locked(true, 0);
	list_for_each_entry_safe(r, rt, &ainka_rules, list) {
		list_del_rcu(&r->list);
		call_rcu(&r->rcu, rule_free_rcu);
	}
	spin_lock_irq(&rec_lock);
	hash_for_each_safe(ainka_recs, bkt, tmp, rec, node) {
		hash_del_rcu(&rec->node);
		call_rcu(&rec->rcu, rec_free_rcu);
	}
	spin_unlock_irq(&rec_lock);
	nr_rules = 0;
	nr_recs = 0;
	mutex_unlock(&ainka_mutex);
	rcu_barrier();		/* every call_rcu above has run */
	if (atomic_read(&live_objs))
		pr_err("leak: %d objects not freed at unload\n", atomic_read(&live_objs));
	else
		pr_info("unloaded: actuations restored, every object freed\n");
}

module_init(ainka_init);
module_exit(ainka_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("AINKA");
MODULE_DESCRIPTION("AINKA fast path: in-kernel rules, recommendations and actuations over generic netlink");
MODULE_VERSION("1");
