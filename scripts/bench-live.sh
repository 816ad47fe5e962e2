#!/bin/sh
# bench-live.sh — the live data plane at a controlled event rate, through
# the real daemon: `ainka run --no-act` (every kind attached, all six
# stages, GOMEMLIMIT from max_memory_mb) while a getppid loop makes RATE
# syscalls per second. Per rate it reports the kernel's emitted records/s
# during the load window, the daemon's CPU (% of one core, from
# process_cpu_seconds_total) and RSS (process_resident_memory_bytes, peak of
# 1 s samples), and the run's accounting: lost in the ring, dropped by the
# source, dropped by any stage, and whether decoded == emitted - lost -
# dropped for every kind. A run passes when nothing was lost or dropped.
#
# Rates are tried in order with short runs, stopping at the first failure;
# then the highest passing rate is held for SUSTAIN seconds (about 2 min in
# all by default).
#
# Usage: sudo scripts/bench-live.sh
#   env: RATES ("250000 500000 750000 1000000 1250000"), STEP_SECONDS (8),
#        SUSTAIN (60; 0 = skip), WORKERS (2 getppid processes),
#        NICE (0: the daemon's nice level), MAX_MEMORY_MB (48), RING_MB (16),
#        PORT (19464), AINKA (a built binary; default: go build)
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "bench-live.sh: needs root (eBPF)" >&2; exit 3; fi
command -v cc >/dev/null || { echo "bench-live.sh: needs a C compiler (cc) for the load generator" >&2; exit 3; }
command -v curl >/dev/null || { echo "bench-live.sh: needs curl to read the daemon's /metrics" >&2; exit 3; }
RATES=${RATES:-250000 500000 750000 1000000 1250000}
STEP_SECONDS=${STEP_SECONDS:-8}
SUSTAIN=${SUSTAIN:-60}
WORKERS=${WORKERS:-2}
NICE=${NICE:-0}
MAX_MEMORY_MB=${MAX_MEMORY_MB:-48}
RING_MB=${RING_MB:-16}
PORT=${PORT:-19464}

tmp=$(mktemp -d /tmp/ainka-bench-live.XXXXXX)
daemon=
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The load: WORKERS processes together making RATE getppid() calls per
# second (scripts/lib/loadgen.c).
. scripts/lib/live-daemon.sh
live_prepare

# run_rate RATE SECONDS: one daemon run with the load held for SECONDS.
# Prints one result line; returns 1 when anything was lost or dropped.
run_rate() {
	rate=$1 secs=$2
	nice -n "$NICE" "$tmp/ainka" run --no-act --config "$tmp/config.toml" --metrics-addr "127.0.0.1:$PORT" \
		--duration "$((secs + 4))s" >/dev/null 2>"$tmp/err" &
	daemon=$!
	live_wait bench-live.sh || return 2
	metrics >"$tmp/m0"
	"$tmp/loadgen" "$rate" "$secs" "$WORKERS" >"$tmp/load" &
	load=$!
	rss=0
	while kill -0 "$load" 2>/dev/null; do
		sleep 1
		r=$(metrics | msum process_resident_memory_bytes)
		rss=$(awk -v a="$rss" -v b="$r" 'BEGIN { print (b > a ? b : a) }')
	done
	wait "$load"
	metrics >"$tmp/m1"
	wait "$daemon" || { echo "bench-live.sh: the daemon failed:" >&2; cat "$tmp/err" >&2; daemon=; return 2; }
	daemon=
	calls=$(cut -d' ' -f1 "$tmp/load")
	el=$(cut -d' ' -f2 "$tmp/load")
	em0=$(msum ainka_bpf_emitted_total <"$tmp/m0")
	em1=$(msum ainka_bpf_emitted_total <"$tmp/m1")
	cpu0=$(msum process_cpu_seconds_total <"$tmp/m0")
	cpu1=$(msum process_cpu_seconds_total <"$tmp/m1")
	stagedrop=$(msum ainka_stage_dropped_total <"$tmp/m1")
	summary=$(grep '^run: ' "$tmp/err" || true)
	[ -n "$summary" ] || { echo "bench-live.sh: no summary line:" >&2; cat "$tmp/err" >&2; return 2; }
	echo "$summary" | tr ';' '\n' | awk -v rate="$rate" -v calls="$calls" -v el="$el" \
		-v em0="$em0" -v em1="$em1" -v cpu0="$cpu0" -v cpu1="$cpu1" -v rss="$rss" -v sd="$stagedrop" \
		-v lavg="$(cut -d' ' -f1-3 /proc/loadavg)" '
	{
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "emitted") e = kv[2]
			if (kv[1] == "decoded") d = kv[2]
			if (kv[1] == "lost") { l = kv[2]; lost += l }
			if (kv[1] == "dropped") { p = kv[2]; dropped += p; if (e != d + l + p) bad++ }
		}
		emitted += e
	}
	END {
		ok = (lost == 0 && dropped == 0 && sd == 0 && bad == 0)
		printf "target %8d/s  load %8.0f getppid/s  emitted %8.0f records/s (%.2f of 1 M)  daemon CPU %5.1f%% of a core  RSS peak %5.1f MiB  lost %d  dropped %d  stage-dropped %d  accounting %s  loadavg %s  %s\n",
			rate, calls / el, (em1 - em0) / el, (em1 - em0) / el / 1e6, 100 * (cpu1 - cpu0) / el, rss / 1048576,
			lost, dropped, sd, (bad ? "MISMATCH" : "exact"), lavg, (ok ? "PASS" : "FAIL")
		exit !ok
	}'
}

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) CPUs; ainka run --no-act, all kinds, ring ${RING_MB} MiB, max_memory_mb=$MAX_MEMORY_MB, nice $NICE, $WORKERS getppid workers"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
best=
for rate in $RATES; do
	if run_rate "$rate" "$STEP_SECONDS"; then
		best=$rate
	else
		[ $? -eq 2 ] && exit 1
		break
	fi
done
if [ -z "$best" ]; then
	echo "# no rate passed"
	exit 1
fi
echo "# highest passing rate in ${STEP_SECONDS}s steps: $best/s"
if [ "$SUSTAIN" -gt 0 ]; then
	echo "# sustained run: $best/s for ${SUSTAIN}s"
	run_rate "$best" "$SUSTAIN" || exit 1
fi
