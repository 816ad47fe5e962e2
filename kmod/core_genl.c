// SPDX-License-Identifier: GPL-2.0-only
/*
 * core_genl.c - the generic netlink family: attribute policies, status,
 * recommendations, state and actuation commands. The rule commands are in
 * core_rules.c.
 */
#include "core.h"

static const struct genl_multicast_group ainka_mcgrps[] = {
#ifdef GENL_MCAST_CAP_NET_ADMIN
	/* Decisions and states are for administrators only. */
	{ .name = AINKA_GENL_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
#else
	{ .name = AINKA_GENL_MCGRP_EVENTS },
#endif
};

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
u64 cost_median(u64 samples)
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

void lat_percentiles(u64 *p50, u64 *p99, u64 *max, u64 *count)
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

struct genl_family ainka_family __ro_after_init = {
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
