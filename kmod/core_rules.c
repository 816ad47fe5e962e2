// SPDX-License-Identifier: GPL-2.0-only
/*
 * core_rules.c - the fast-path rules over generic netlink: set (insert or
 * replace), delete, get and dump. They are evaluated in core_sampler.c.
 */
#include "core.h"

static unsigned int rules_gen = 1;	/* bumped on change: dumps see it */

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

int ainka_set_policy(struct sk_buff *skb, struct genl_info *info)
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

int ainka_del_policy(struct sk_buff *skb, struct genl_info *info)
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

int ainka_get_policy(struct sk_buff *skb, struct genl_info *info)
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
int ainka_dump_policy(struct sk_buff *skb, struct netlink_callback *cb)
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
