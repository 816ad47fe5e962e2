//go:build ignore

// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpcc.bpf.c - switch the open TCP connections of one network namespace
 * from one congestion control to another.
 *
 * net.ipv4.tcp_congestion_control only names the algorithm connections
 * opened afterwards start with: a connection open when the TCP tuner
 * acts keeps the old one until it ends. This TCP socket iterator
 * (iter/tcp) walks the sockets of the network namespace the iterator
 * was created in and, for each established connection whose algorithm
 * is cfg.from, sets cfg.to with bpf_setsockopt(TCP_CONGESTION), under
 * the socket's lock that the iterator holds (kernel 5.15+). A socket on
 * another algorithm (chosen by its application, or by anyone else) is
 * left alone. The daemon runs it once per change, from user space
 * (internal/tcpcc), and reads the counts from stats.
 *
 * A cgroup sock_ops program cannot do this: it runs at a connection's
 * events (connect, establishment, and the RTT, retransmit and state
 * callbacks a program enabled on that socket earlier), so it never sees
 * a connection that was established before it was attached.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define SOL_TCP 6
#define TCP_CONGESTION 13
#define TCP_CA_NAME_MAX 16

enum {
	TCPCC_ESTABLISHED = 1,
	TCPCC_CLOSE_WAIT = 8,
};

struct bpf_iter_meta {
	__u64 seq_num;
} __attribute__((preserve_access_index));

struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
} __attribute__((preserve_access_index));

/* What to switch, set by user space before each pass. */
struct tcpcc_config {
	char from[TCP_CA_NAME_MAX];
	char to[TCP_CA_NAME_MAX];
};

/* What the last pass did. */
struct tcpcc_stats {
	__u64 seen;     /* established TCP connections */
	__u64 switched; /* from cfg.from to cfg.to */
	__u64 failed;   /* getsockopt or setsockopt refused */
};

struct tcpcc_config cfg = {};
struct tcpcc_stats stats = {};

/* same_name compares two NUL-padded algorithm names. */
static __always_inline bool same_name(const char *a, const char *b)
{
#pragma clang loop unroll(full)
	for (int i = 0; i < TCP_CA_NAME_MAX; i++) {
		if (a[i] != b[i])
			return false;
		if (a[i] == 0)
			return true;
	}
	return true;
}

SEC("iter/tcp")
int ainka_tcpcc(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	char cur[TCP_CA_NAME_MAX] = {};
	struct tcp_sock *tp;
	unsigned char state;

	if (!skc)
		return 0;
	state = skc->skc_state;
	if (state != TCPCC_ESTABLISHED && state != TCPCC_CLOSE_WAIT)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	__sync_fetch_and_add(&stats.seen, 1);
	if (bpf_getsockopt(tp, SOL_TCP, TCP_CONGESTION, cur, sizeof(cur))) {
		__sync_fetch_and_add(&stats.failed, 1);
		return 0;
	}
	if (!same_name(cur, cfg.from))
		return 0;
	if (bpf_setsockopt(tp, SOL_TCP, TCP_CONGESTION, cfg.to, sizeof(cfg.to))) {
		__sync_fetch_and_add(&stats.failed, 1);
		return 0;
	}
	__sync_fetch_and_add(&stats.switched, 1);
	return 0;
}
