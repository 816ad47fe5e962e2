// SPDX-License-Identifier: GPL-2.0-only
/*
 * core_proc.c - /proc/ainka: the status for people, and its write commands.
 */
#include "core.h"

/* The engine's spelling (action.StateNames in stages/decide). */
static const char *const state_names[] = {
	[AINKA_STATE_UNSPEC] = "unspec",
	[AINKA_STATE_LEARNING] = "learning",
	[AINKA_STATE_OPTIMIZING] = "optimizing",
	[AINKA_STATE_ANOMALY_DETECTION] = "anomaly_detection",
	[AINKA_STATE_PREDICTIVE_SCALING] = "predictive_scaling",
	[AINKA_STATE_EMERGENCY] = "emergency",
};

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

const struct proc_ops ainka_proc_ops = {
	.proc_open = ainka_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
	.proc_write = ainka_proc_write,
};
