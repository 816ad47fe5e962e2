// SPDX-License-Identifier: GPL-2.0-only
/*
 * core_sampler.c - the soft hrtimer sampler and the fast-path rules it
 * evaluates; decide_work, which does what may sleep (a rule's actuation and
 * its undo), and slow_work, which reads what needs a task walk or a file.
 */
#include "core.h"

static u64 psi_last_ns;

static unsigned int slow_tick;

static unsigned int cost_next;

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

enum hrtimer_restart ainka_sample(struct hrtimer *t)
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

void ainka_slow(struct work_struct *w)
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

void ainka_decide(struct work_struct *w)
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

void ainka_sampler_start_locked(void)
{
	lockdep_assert_held(&ainka_mutex);
	if (ainka_stopping)
		return;
	WRITE_ONCE(active_interval_ms, READ_ONCE(sample_interval_ms));
	hrtimer_start(&sampler, ms_to_ktime(active_interval_ms), HRTIMER_MODE_REL_SOFT);
}

/* Reset: undo every actuation, re-arm every rule, back to learning. The
 * sampler is stopped meanwhile so that it cannot re-mark a rule halfway. */
void ainka_reset_locked(void)
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
