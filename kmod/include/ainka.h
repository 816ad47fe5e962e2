/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ainka.h - the in-kernel API of ainka_core.ko for other modules.
 *
 * Every function is EXPORT_SYMBOL_GPL and callable from process context;
 * ainka_get_recommendation, ainka_get_metric, ainka_get_state and
 * ainka_detect_anomaly are also safe in atomic context (RCU, atomics and a
 * per-metric spinlock).
 */
#ifndef _AINKA_H
#define _AINKA_H

#include <linux/types.h>
#include "uapi/ainka_genl.h"

/* Slots of the per-metric anomaly detector: the sampler's metrics and
 * consumer-defined ids up to this bound. */
#define AINKA_DETECTORS 32

/* Publish an event from a kernel consumer on the "events" group. */
int ainka_register_event(const char *source, u32 metric, s64 value);
/* Lock-free read of the recommendation table: 0 or -ENOENT. */
int ainka_get_recommendation(const char *key, s64 *value);
/* Feed one observation to the EWMA/deviation detector of metric:
 * 1 = anomalous, 0 = normal (or still warming up), -EINVAL bad metric. */
int ainka_detect_anomaly(u32 metric, s64 value);
/* Ask user space for a prediction: returns the request's sequence (> 0)
 * carried in the multicast event, or a negative errno. */
s64 ainka_request_prediction(u32 metric, u32 horizon_ms);
/* The latest sampled value of a sampler metric: 0 or -EINVAL/-ENODATA. */
int ainka_get_metric(u32 metric, s64 *value);
u32 ainka_get_state(void);
/* Enter state (announced as a state change); -EINVAL if out of range. */
int ainka_set_state(u32 state);

#endif /* _AINKA_H */
