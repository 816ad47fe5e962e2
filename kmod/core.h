/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * core.h - what the files of ainka_core.ko share: its state, its objects
 * and the functions one file calls in another. Not an API: other modules
 * use include/ainka.h.
 *
 * core_main.c    parameters, state, load and unload
 * core_events.c  multicast events, decision latency, state changes
 * core_rec.c     recommendations (RCU readers)
 * core_act.c     actuations (renice, readahead) and their undo
 * core_sampler.c the sampler, fast-path rules firing, decide and slow work
 * core_api.c     the exported in-kernel API
 * core_genl.c    generic netlink: policies, status, recommendations, state, actuate
 * core_rules.c   generic netlink: the fast-path rules (set, delete, get, dump)
 * core_proc.c    /proc/ainka
 */
#ifndef _AINKA_CORE_H
#define _AINKA_CORE_H

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

struct ainka_rec {
	struct hlist_node node;
	struct rcu_head rcu;
	s64 value;
	char key[AINKA_REC_KEY_MAX];
};

struct ainka_act {
	struct list_head list;
	u32 kind;
	u32 rule_id;		/* 0 = requested over netlink */
	struct pid *pid;	/* RENICE */
	dev_t dev;		/* READAHEAD */
	s64 prev;
	s64 cur;
};

struct ainka_detector {
	spinlock_t lock;
	s64 mean;		/* x 256 */
	u64 var;		/* of the deviation, x 256 */
	u32 n;
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

/* ---- state (core_main.c unless said) ---- */

extern unsigned int sample_interval_ms;
extern unsigned int emergency_threshold;
extern bool debug;
extern struct mutex ainka_mutex;	/* rules, actuations, stopping */
extern bool ainka_stopping;		/* under ainka_mutex */
extern bool ainka_family_live;
extern atomic_t ainka_state;
extern atomic64_t stat_samples, stat_decisions, stat_rejected;
extern atomic64_t stat_events_sent, stat_events_dropped;
extern atomic64_t stat_sample_cost_ns;
extern u64 ainka_load_ns;
extern atomic64_t metric_val[AINKA_METRIC_MAX + 1];
extern unsigned long metric_have;	/* bit per metric with a value */
extern spinlock_t lat_lock;
extern u64 lat_ring[AINKA_LAT_RING];
extern unsigned int lat_next, lat_count;
extern u64 lat_max;
extern u32 cost_ring[AINKA_LAT_RING];
extern struct list_head ainka_rules;		/* by priority desc, id asc */
extern unsigned int nr_rules;
extern struct hlist_head ainka_recs[1 << 8];
extern spinlock_t rec_lock;
extern unsigned int nr_recs;
extern unsigned int recs_gen;	/* bumped on insert/delete, under rec_lock */
extern struct list_head ainka_acts;
extern unsigned int nr_acts;
extern struct ainka_detector detectors[AINKA_DETECTORS];
extern struct hrtimer sampler;
extern struct workqueue_struct *ainka_wq;
extern struct work_struct decide_work, slow_work;
extern unsigned int active_interval_ms;	/* what the running sampler uses */
extern struct genl_family ainka_family;
extern const struct proc_ops ainka_proc_ops;

/* ---- functions, by the file that defines them ---- */

void *ainka_zalloc(size_t size, gfp_t gfp);
void ainka_free(void *p);
void ainka_record_latency(u64 ns);
u64 ainka_publish(struct ainka_event *ev);
u32 ainka_change_state(u32 state);
void rec_free_rcu(struct rcu_head *head);
void rule_free_rcu(struct rcu_head *head);
struct ainka_rec *rec_find_rcu(const char *key);
bool rec_key_valid(const char *key);
int rec_set(const char *key, s64 value, gfp_t gfp);
struct pid *ainka_top_consumer(void);
int ainka_actuate_locked(u32 kind, struct pid *pid, dev_t dev,
				s64 value, u32 rule_id, s64 *prev_out,
				struct netlink_ext_ack *extack);
void ainka_restore_locked(bool all, u32 rule_id);
enum hrtimer_restart ainka_sample(struct hrtimer *t);
void ainka_slow(struct work_struct *w);
void ainka_decide(struct work_struct *w);
void ainka_sampler_start_locked(void);
void ainka_reset_locked(void);
u64 cost_median(u64 samples);
void lat_percentiles(u64 *p50, u64 *p99, u64 *max, u64 *count);
int ainka_set_policy(struct sk_buff *skb, struct genl_info *info);
int ainka_del_policy(struct sk_buff *skb, struct genl_info *info);
int ainka_get_policy(struct sk_buff *skb, struct genl_info *info);
int ainka_dump_policy(struct sk_buff *skb, struct netlink_callback *cb);

/* ---- generic netlink handlers (core_genl.c, core_rules.c) ---- */

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

#endif /* _AINKA_CORE_H */
