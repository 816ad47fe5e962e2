// SPDX-License-Identifier: GPL-2.0-only
/*
 * core_rec.c - recommendations: a key -> value table read under RCU from any
 * context, written under rec_lock (also from the sampler's softirq); and the
 * RCU frees of rules and recommendations.
 */
#include "core.h"

void rec_free_rcu(struct rcu_head *head)
{
	ainka_free(container_of(head, struct ainka_rec, rcu));
}

void rule_free_rcu(struct rcu_head *head)
{
	ainka_free(container_of(head, struct ainka_rule, rcu));
}

static u32 rec_hash(const char *key)
{
	return jhash(key, strlen(key), 0);
}

struct ainka_rec *rec_find_rcu(const char *key)
{
	struct ainka_rec *r;

	hash_for_each_possible_rcu(ainka_recs, r, node, rec_hash(key))
		if (!strcmp(r->key, key))
			return r;
	return NULL;
}

bool rec_key_valid(const char *key)
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
int rec_set(const char *key, s64 value, gfp_t gfp)
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
