// SPDX-License-Identifier: GPL-2.0-only
/*
 * ainka_core.ko - the AINKA fast path and its generic netlink protocol.
 * This file: module parameters, the state the other files share (core.h
 * lists them), load and unload.
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
#include "core.h"

unsigned int sample_interval_ms = 10;
unsigned int emergency_threshold = 5;
bool debug;

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

/* ---- state shared by the files of the module (core.h) ---- */

DEFINE_MUTEX(ainka_mutex);	/* rules, actuations, stopping */
bool ainka_stopping;		/* under ainka_mutex */
bool ainka_family_live;

atomic_t ainka_state = ATOMIC_INIT(AINKA_STATE_LEARNING);
atomic64_t stat_samples, stat_decisions, stat_rejected;
atomic64_t stat_events_sent, stat_events_dropped;
atomic64_t stat_sample_cost_ns;
u64 ainka_load_ns;

atomic64_t metric_val[AINKA_METRIC_MAX + 1];
unsigned long metric_have;	/* bit per metric with a value */

DEFINE_SPINLOCK(lat_lock);
u64 lat_ring[AINKA_LAT_RING];
unsigned int lat_next, lat_count;
u64 lat_max;

/* Cost of the last samples; written by the sampler only (one at a time). */
u32 cost_ring[AINKA_LAT_RING];

LIST_HEAD(ainka_rules);		/* by priority desc, id asc */
unsigned int nr_rules;

/* Readers: RCU. Writers: rec_lock, taken from process context and from
 * the sampler's softirq (a firing rule applies its recommendation). */
DEFINE_HASHTABLE(ainka_recs, 8);
DEFINE_SPINLOCK(rec_lock);
unsigned int nr_recs;
unsigned int recs_gen = 1;	/* bumped on insert/delete, under rec_lock */

LIST_HEAD(ainka_acts);
unsigned int nr_acts;

struct ainka_detector detectors[AINKA_DETECTORS];

/* Every rule, recommendation and actuation record alive: must be 0 once
 * the module has freed everything at unload, else it reports a leak. */
static atomic_t live_objs = ATOMIC_INIT(0);

void *ainka_zalloc(size_t size, gfp_t gfp)
{
	void *p = kzalloc(size, gfp);

	if (p)
		atomic_inc(&live_objs);
	return p;
}

void ainka_free(void *p)
{
	if (p)
		atomic_dec(&live_objs);
	kfree(p);
}

struct hrtimer sampler;
struct workqueue_struct *ainka_wq;
struct work_struct decide_work, slow_work;
unsigned int active_interval_ms;	/* what the running sampler uses */
static struct proc_dir_entry *ainka_proc;

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
