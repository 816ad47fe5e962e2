// SPDX-License-Identifier: GPL-2.0-only
/*
 * ainka_enhanced.ko - the AINKA state machine, built only on the exported
 * API of ainka_core.ko (so module dependencies and exports are exercised):
 *
 *   learning -> optimizing <-> anomaly_detection
 *                          <-> predictive_scaling
 *   any state -> emergency -> optimizing
 *
 * Every transition needs its condition to hold (or be absent) for several
 * consecutive ticks: that hysteresis keeps one noisy sample from flapping
 * the state. A tick is 100 ms of delayed work (process context).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/workqueue.h>

#include "include/ainka.h"

#define TICK_MS			100
#define ANOMALY_TICKS		1	/* an anomaly is rare by definition */
#define RISING_UPDATES		2	/* load average updates in a row (10 s) */
#define LEAVE_TICKS		10	/* condition absent this long to go back */
#define PREDICT_HORIZON_MS	1000

static bool learning_mode = true;
module_param(learning_mode, bool, 0644);
MODULE_PARM_DESC(learning_mode, "1 (default): only learn (train the detectors, stay in learning); 0: run the state machine");

static unsigned int learn_ticks = 50;
module_param(learn_ticks, uint, 0644);
MODULE_PARM_DESC(learn_ticks, "ticks of 100 ms spent learning before optimizing (default 50)");

static unsigned int emergency_pct = 3;
module_param(emergency_pct, uint, 0644);
MODULE_PARM_DESC(emergency_pct, "enter emergency below this percent of available memory (default 3)");

static struct delayed_work tick_work;
static unsigned int learned, anomalous, calm, rising, stable;
static s64 last_load;

/* The watched signals feed ainka_core's per-metric detectors: smooth
 * ones only, the instantaneous runnable count is too noisy to be told
 * from an anomaly at 100 ms. */
static const u32 watched[] = {
	AINKA_METRIC_MEM_AVAILABLE_KB,
	AINKA_METRIC_LOAD1_MILLI,
};

static void enter(u32 state)
{
	u32 prev = ainka_get_state();

	if (prev == state)
		return;
	ainka_set_state(state);
	pr_info("state %u -> %u\n", prev, state);
}

static void ainka_tick(struct work_struct *w)
{
	u32 state = ainka_get_state();
	bool anomaly = false;
	s64 v, pct = 100, load = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(watched); i++)
		if (!ainka_get_metric(watched[i], &v) &&
		    ainka_detect_anomaly(watched[i], v) == 1)
			anomaly = true;
	ainka_get_metric(AINKA_METRIC_MEM_AVAILABLE_PCT, &pct);
	ainka_get_metric(AINKA_METRIC_LOAD1_MILLI, &load);

	anomalous = anomaly ? anomalous + 1 : 0;
	calm = anomaly ? 0 : calm + 1;
	/* A load average climbing update after update (the kernel updates it
	 * every 5 s, so compare updates, not ticks) announces demand ahead. */
	if (load != last_load) {
		rising = load > last_load + 10 ? rising + 1 : 0;
		last_load = load;
	}
	stable = rising ? 0 : stable + 1;

	if (READ_ONCE(learning_mode)) {
		learned = 0;
		goto out;
	}
	if (pct < READ_ONCE(emergency_pct)) {
		enter(AINKA_STATE_EMERGENCY);
		goto out;
	}
	switch (state) {
	case AINKA_STATE_LEARNING:
		if (++learned >= READ_ONCE(learn_ticks))
			enter(AINKA_STATE_OPTIMIZING);
		break;
	case AINKA_STATE_OPTIMIZING:
		if (anomalous >= ANOMALY_TICKS) {
			enter(AINKA_STATE_ANOMALY_DETECTION);
		} else if (rising >= RISING_UPDATES) {
			enter(AINKA_STATE_PREDICTIVE_SCALING);
			ainka_request_prediction(AINKA_METRIC_LOAD1_MILLI, PREDICT_HORIZON_MS);
		}
		break;
	case AINKA_STATE_ANOMALY_DETECTION:
		if (calm >= LEAVE_TICKS)
			enter(AINKA_STATE_OPTIMIZING);
		break;
	case AINKA_STATE_PREDICTIVE_SCALING:
		if (anomalous >= ANOMALY_TICKS)
			enter(AINKA_STATE_ANOMALY_DETECTION);
		else if (stable >= LEAVE_TICKS)
			enter(AINKA_STATE_OPTIMIZING);
		break;
	case AINKA_STATE_EMERGENCY:
		/* Out of emergency only with margin above the threshold. */
		if (pct >= READ_ONCE(emergency_pct) + 5 && calm >= LEAVE_TICKS)
			enter(AINKA_STATE_OPTIMIZING);
		break;
	}
out:
	schedule_delayed_work(&tick_work, msecs_to_jiffies(TICK_MS));
}

static int __init ainka_enhanced_init(void)
{
	if (emergency_pct > 50) {
		pr_err("emergency_pct=%u is invalid: want 0..50\n", emergency_pct);
		return -EINVAL;
	}
	INIT_DELAYED_WORK(&tick_work, ainka_tick);
	schedule_delayed_work(&tick_work, msecs_to_jiffies(TICK_MS));
	pr_info("loaded: learning_mode=%d\n", learning_mode);
	return 0;
}

static void __exit ainka_enhanced_exit(void)
{
	/* cancel_delayed_work_sync also stops the self-rearming. */
	cancel_delayed_work_sync(&tick_work);
	pr_info("unloaded\n");
}

module_init(ainka_enhanced_init);
module_exit(ainka_enhanced_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("AINKA");
MODULE_DESCRIPTION("AINKA state machine on top of ainka_core");
MODULE_SOFTDEP("pre: ainka_core");
