// SPDX-License-Identifier: GPL-2.0-only
/*
 * core_api.c - the in-kernel API of include/ainka.h, exported to GPL modules.
 */
#include "core.h"

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
