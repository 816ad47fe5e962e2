// SPDX-License-Identifier: GPL-2.0-only
/*
 * core_events.c - the "events" multicast group: decisions, recoveries, state
 * changes and kernel-consumer events, and the condition-to-publication
 * latency of decisions.
 */
#include "core.h"

static atomic64_t ainka_seq;

void ainka_record_latency(u64 ns)
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
u64 ainka_publish(struct ainka_event *ev)
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

u32 ainka_change_state(u32 state)
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
