/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * ainka_genl.h - the generic netlink protocol of ainka_core.ko.
 *
 * This header is the single definition of the family: the kernel module
 * includes it, and the Go package kmod/genl carries the same constants,
 * which its tests parse out of this file and compare one by one. Append
 * new values at the end of an enum only; never renumber.
 *
 * Conventions: every attribute is a fixed-width scalar or a NUL-terminated
 * string; signed values travel as NLA_S64 so that thresholds and values
 * below zero are representable. All commands require CAP_NET_ADMIN.
 */
#ifndef _UAPI_AINKA_GENL_H
#define _UAPI_AINKA_GENL_H

#define AINKA_GENL_NAME		"ainka"
#define AINKA_GENL_VERSION	1
#define AINKA_GENL_MCGRP_EVENTS	"events"

#define AINKA_REC_KEY_MAX	32	/* recommendation key incl. NUL */
#define AINKA_MAX_POLICIES	1024
#define AINKA_MAX_RECS		4096

enum ainka_cmd {
	AINKA_CMD_UNSPEC = 0,
	AINKA_CMD_GET_STATUS = 1,	/* -> status attributes */
	AINKA_CMD_SET_POLICY = 2,	/* create or replace by POLICY_ID */
	AINKA_CMD_DEL_POLICY = 3,
	AINKA_CMD_GET_POLICY = 4,	/* do: by POLICY_ID; dump: all */
	AINKA_CMD_SET_RECOMMENDATION = 5,
	AINKA_CMD_GET_RECOMMENDATION = 6, /* do: by REC_KEY; dump: all */
	AINKA_CMD_SET_STATE = 7,	/* STATE and/or RESET */
	AINKA_CMD_ACTUATE = 8,
	AINKA_CMD_EVENT = 9,		/* multicast on "events" only */
	AINKA_CMD_DEL_RECOMMENDATION = 10,
	__AINKA_CMD_MAX,
};
#define AINKA_CMD_MAX (__AINKA_CMD_MAX - 1)

enum ainka_attr {
	AINKA_A_UNSPEC = 0,
	/* status */
	AINKA_A_VERSION = 1,		/* u32 */
	AINKA_A_STATE = 2,		/* u32 enum ainka_state */
	AINKA_A_SAMPLE_INTERVAL_US = 3,	/* u32 */
	AINKA_A_SAMPLES = 4,		/* u64 */
	AINKA_A_DECISIONS = 5,		/* u64 */
	AINKA_A_REJECTED = 6,		/* u64 requests refused */
	AINKA_A_EVENTS_SENT = 7,	/* u64 */
	AINKA_A_EVENTS_DROPPED = 8,	/* u64 multicast failures */
	AINKA_A_LAT_P50_NS = 9,		/* u64 condition -> publication */
	AINKA_A_LAT_P99_NS = 10,	/* u64 */
	AINKA_A_LAT_MAX_NS = 11,	/* u64 */
	AINKA_A_LAT_COUNT = 12,		/* u64 samples in the latency window */
	AINKA_A_SAMPLE_COST_NS = 13,	/* u64 mean cost of one sample */
	AINKA_A_NR_POLICIES = 14,	/* u32 */
	AINKA_A_NR_RECS = 15,		/* u32 */
	AINKA_A_NR_ACTUATIONS = 16,	/* u32 active (restorable) */
	AINKA_A_UPTIME_NS = 17,		/* u64 since module load */
	/* policy (fast-path rule) */
	AINKA_A_POLICY_ID = 18,		/* u32, >= 1 */
	AINKA_A_POLICY_METRIC = 19,	/* u32 enum ainka_metric */
	AINKA_A_POLICY_CMP = 20,	/* u32 enum ainka_cmp */
	AINKA_A_POLICY_THRESHOLD = 21,	/* s64 */
	AINKA_A_POLICY_FOR_MS = 22,	/* u32 condition must hold this long */
	AINKA_A_POLICY_ACTION = 23,	/* u32 enum ainka_action */
	AINKA_A_POLICY_PRIORITY = 24,	/* u32, higher evaluated first */
	AINKA_A_POLICY_TARGET_STATE = 25, /* u32 state entered, 0 = keep */
	AINKA_A_POLICY_HITS = 26,	/* u64 (reply only) */
	AINKA_A_POLICY_ACTIVE = 27,	/* u8 (reply only) */
	/* recommendation; also a rule's pre-armed recommendation */
	AINKA_A_REC_KEY = 28,		/* string < AINKA_REC_KEY_MAX */
	AINKA_A_REC_VALUE = 29,		/* s64 */
	/* actuation; also a rule's action arguments */
	AINKA_A_ACT_PID = 30,		/* u32, 0 = top CPU consumer */
	AINKA_A_ACT_DEV = 31,		/* u32 dev_t, major << 20 | minor */
	AINKA_A_ACT_VALUE = 32,		/* s64 nice or ra_pages */
	AINKA_A_ACT_PREV = 33,		/* s64 (reply) value before */
	AINKA_A_ACT_KIND = 34,		/* u32 enum ainka_action (ACTUATE) */
	AINKA_A_RESET = 35,		/* flag (SET_STATE) */
	/* events */
	AINKA_A_EVENT_TYPE = 36,	/* u32 enum ainka_event_type */
	AINKA_A_EVENT_SEQ = 37,		/* u64 */
	AINKA_A_EVENT_TS_NS = 38,	/* u64 CLOCK_MONOTONIC, condition seen */
	AINKA_A_EVENT_LATENCY_NS = 39,	/* u64 condition -> publication */
	AINKA_A_EVENT_VALUE = 40,	/* s64 metric value that matched */
	AINKA_A_PREV_STATE = 41,	/* u32 */
	AINKA_A_EVENT_SOURCE = 42,	/* string, kernel consumer name */
	AINKA_A_HORIZON_MS = 43,	/* u32 prediction request */
	AINKA_A_SAMPLE_COST_P50_NS = 44, /* u64 median cost, last 1024 samples */
	__AINKA_A_MAX,
};
#define AINKA_A_MAX (__AINKA_A_MAX - 1)

enum ainka_state {
	AINKA_STATE_UNSPEC = 0,
	AINKA_STATE_LEARNING = 1,
	AINKA_STATE_OPTIMIZING = 2,
	AINKA_STATE_ANOMALY_DETECTION = 3,
	AINKA_STATE_PREDICTIVE_SCALING = 4,
	AINKA_STATE_EMERGENCY = 5,
	__AINKA_STATE_MAX,
};
#define AINKA_STATE_MAX (__AINKA_STATE_MAX - 1)

/* Signals the in-kernel sampler reads. */
enum ainka_metric {
	AINKA_METRIC_UNSPEC = 0,
	AINKA_METRIC_MEM_AVAILABLE_KB = 1,
	AINKA_METRIC_MEM_AVAILABLE_PCT = 2,
	AINKA_METRIC_NR_RUNNING = 3,	/* runnable tasks, refreshed <= 10 ms */
	AINKA_METRIC_LOAD1_MILLI = 4,	/* 1-min load average x 1000 */
	AINKA_METRIC_PSI_CPU_SOME = 5,	/* avg10 x 100, refreshed each 1 s */
	AINKA_METRIC_PSI_MEM_SOME = 6,
	AINKA_METRIC_PSI_IO_SOME = 7,
	__AINKA_METRIC_MAX,
};
#define AINKA_METRIC_MAX (__AINKA_METRIC_MAX - 1)

enum ainka_cmp {
	AINKA_CMP_UNSPEC = 0,
	AINKA_CMP_LT = 1,
	AINKA_CMP_LE = 2,
	AINKA_CMP_GT = 3,
	AINKA_CMP_GE = 4,
	AINKA_CMP_EQ = 5,
	AINKA_CMP_NE = 6,
	__AINKA_CMP_MAX,
};
#define AINKA_CMP_MAX (__AINKA_CMP_MAX - 1)

enum ainka_action {
	AINKA_ACTION_UNSPEC = 0,
	AINKA_ACTION_NOTIFY = 1,	/* state, recommendation, event only */
	AINKA_ACTION_RENICE = 2,	/* ACT_PID (0 = top consumer), ACT_VALUE nice */
	AINKA_ACTION_READAHEAD = 3,	/* ACT_DEV, ACT_VALUE ra_pages */
	AINKA_ACTION_RESTORE = 4,	/* ACTUATE only: undo every actuation */
	__AINKA_ACTION_MAX,
};
#define AINKA_ACTION_MAX (__AINKA_ACTION_MAX - 1)

enum ainka_event_type {
	AINKA_EVENT_UNSPEC = 0,
	AINKA_EVENT_DECISION = 1,	/* a fast-path rule fired */
	AINKA_EVENT_RECOVERY = 2,	/* its condition cleared; undone */
	AINKA_EVENT_STATE_CHANGE = 3,
	AINKA_EVENT_KERNEL = 4,		/* ainka_register_event() */
	AINKA_EVENT_PREDICTION_REQUEST = 5, /* ainka_request_prediction() */
	__AINKA_EVENT_MAX,
};
#define AINKA_EVENT_MAX (__AINKA_EVENT_MAX - 1)

#define AINKA_NICE_MIN		(-20)
#define AINKA_NICE_MAX		19
#define AINKA_RA_PAGES_MAX	65536	/* 256 MiB of 4 KiB pages */

#endif /* _UAPI_AINKA_GENL_H */
