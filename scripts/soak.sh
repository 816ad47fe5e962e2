#!/bin/sh
# soak.sh — the hard memory bound (issue 16): the real daemon, live
# (`ainka run --no-act`, every kind attached, all six stages, a 16 MiB ring,
# max_memory_mb = 48: the defaults; the daemon derives its Go memory limit
# from that RSS goal, internal/rssgoal), under a getppid load that alternates
# bursts at the highest rate the generator reaches with quiet periods, for
# SECONDS. The daemon's VmRSS and VmHWM (/proc/PID/status) are sampled every
# second; the last sample of each burst and of each quiet period is kept,
# with the Go heap in use, idle and released (go_memstats_*), so that RSS
# after bursts can be compared with RSS after quiet and the memory placed.
# It fails when VmHWM passes LIMIT_MB or anything was lost or dropped.
#
# Usage: sudo scripts/soak.sh [SECONDS]     (default 600: the real figure)
#   env: BURST (20 s), QUIET (10 s), RATE (3000000 getppid/s: above what 2
#        vCPUs reach, so a burst is as fast as the generator goes), WORKERS
#        (2), SWITCH (2 stress-ng --switch workers beside them in each
#        burst: sched_switch records, which the kernel never samples, so
#        the pipeline sees far more records than from getppid alone; 0 =
#        none), MAX_MEMORY_MB (48: the RSS goal), LIMIT_MB (MAX_MEMORY_MB:
#        the VmHWM that fails), RING_MB (16), PORT (19465),
#        SAMPLES (a file to keep the 1 s samples), AINKA (a built binary)
set -eu
cd "$(dirname "$0")/.."
SECONDS_TOTAL=${1:-600}
BURST=${BURST:-20}
QUIET=${QUIET:-10}
RATE=${RATE:-3000000}
WORKERS=${WORKERS:-2}
SWITCH=${SWITCH:-2}
MAX_MEMORY_MB=${MAX_MEMORY_MB:-48}
LIMIT_MB=${LIMIT_MB:-$MAX_MEMORY_MB}
RING_MB=${RING_MB:-16}
PORT=${PORT:-19465}
for v in SECONDS_TOTAL BURST QUIET RATE WORKERS SWITCH LIMIT_MB MAX_MEMORY_MB RING_MB PORT; do
	eval "x=\$$v"
	case $x in
	'' | *[!0-9]*) echo "soak.sh: $v must be a whole number, got '$x'" >&2; exit 2 ;;
	0) [ "$v" = SWITCH ] || { echo "soak.sh: $v must be positive" >&2; exit 2; } ;;
	esac
done
if [ "$SECONDS_TOTAL" -lt $((BURST + QUIET)) ]; then
	echo "soak.sh: SECONDS ($SECONDS_TOTAL) must hold at least one burst and one quiet period ($((BURST + QUIET)) s)" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ]; then echo "soak.sh: needs root (eBPF)" >&2; exit 3; fi
command -v cc >/dev/null || { echo "soak.sh: needs a C compiler (cc) for the load generator" >&2; exit 3; }
[ "$SWITCH" = 0 ] || command -v stress-ng >/dev/null || { echo "soak.sh: needs stress-ng for the context-switch load (or SWITCH=0)" >&2; exit 3; }
command -v curl >/dev/null || { echo "soak.sh: needs curl to read the daemon's /metrics" >&2; exit 3; }

tmp=$(mktemp -d /tmp/ainka-soak.XXXXXX)
daemon= sampler= load=
cleanup() {
	for p in $load $sampler $daemon; do kill "$p" 2>/dev/null || true; done
	[ -n "$daemon" ] && wait "$daemon" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

. scripts/lib/live-daemon.sh
live_prepare
kib() { awk -v k="$1" '$1 == k ":" { print $2 }' "/proc/$daemon/status"; }

"$tmp/ainka" run --no-act --config "$tmp/config.toml" --metrics-addr "127.0.0.1:$PORT" \
	--duration "$((SECONDS_TOTAL + 30))s" >/dev/null 2>"$tmp/err" &
daemon=$!
live_wait soak.sh || exit 1

# The sampler: one line a second, "t phase VmRSS VmHWM RssAnon RssFile
# heap_inuse heap_idle heap_released" (KiB, then bytes); the phase is what the main loop is in.
echo start >"$tmp/phase"
(
	t0=$(date +%s)
	while kill -0 "$daemon" 2>/dev/null; do
		t=$(($(date +%s) - t0)) # seconds since start: under load a sample takes more than 1 s
		m=$(metrics) || break
		echo "$t $(cat "$tmp/phase") $(kib VmRSS) $(kib VmHWM) $(kib RssAnon) $(kib RssFile)" \
			"$(echo "$m" | msum go_memstats_heap_inuse_bytes)" \
			"$(echo "$m" | msum go_memstats_heap_idle_bytes)" \
			"$(echo "$m" | msum go_memstats_heap_released_bytes)"
		sleep 1
	done
) >"$tmp/samples" &
sampler=$!

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) CPUs; ainka run --no-act, all kinds, ring ${RING_MB} MiB, max_memory_mb=$MAX_MEMORY_MB;" \
	"${SECONDS_TOTAL}s of ${BURST}s bursts (target $RATE getppid/s, $WORKERS workers; $SWITCH stress-ng --switch) and ${QUIET}s quiet"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
metrics >"$tmp/m0"
start=$(date +%s)
n=0 calls=0 busy=0
while [ $(($(date +%s) - start + BURST + QUIET)) -le "$SECONDS_TOTAL" ]; do
	n=$((n + 1))
	echo "burst$n" >"$tmp/phase"
	sw=
	if [ "$SWITCH" -gt 0 ]; then
		stress-ng --switch "$SWITCH" --timeout "${BURST}s" >/dev/null 2>&1 &
		sw=$!
	fi
	"$tmp/loadgen" "$RATE" "$BURST" "$WORKERS" >"$tmp/load" &
	load="$!${sw:+ $sw}"
	for p in $load; do wait "$p" || { echo "soak.sh: the load generator failed (pid $p)" >&2; exit 1; }; done
	load=
	calls=$((calls + $(cut -d' ' -f1 "$tmp/load")))
	busy=$(awk -v a="$busy" -v b="$(cut -d' ' -f2 "$tmp/load")" 'BEGIN { print a + b }')
	echo "quiet$n" >"$tmp/phase"
	sleep "$QUIET"
done
echo end >"$tmp/phase"
sleep 2
metrics >"$tmp/m1"
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=
kill -TERM "$daemon"
wait "$daemon" || { echo "soak.sh: the daemon failed:" >&2; cat "$tmp/err" >&2; daemon=; exit 1; }
daemon=
[ -n "${SAMPLES:-}" ] && cp "$tmp/samples" "$SAMPLES"

em=$(awk -v a="$(msum ainka_bpf_emitted_total <"$tmp/m0")" -v b="$(msum ainka_bpf_emitted_total <"$tmp/m1")" 'BEGIN { print b - a }')
sd=$(msum ainka_stage_dropped_total <"$tmp/m1")
# The price of the bound: the daemon's CPU and the collector's share of it.
delta() { awk -v a="$(msum "$1" <"$tmp/m0")" -v b="$(msum "$1" <"$tmp/m1")" 'BEGIN { print b - a }'; }
cpu=$(delta process_cpu_seconds_total) gccpu=$(delta go_gc_cpu_seconds_total) gcs=$(delta go_gc_duration_seconds_count)
summary=$(grep '^run: ' "$tmp/err" || true)
echo "# daemon: $(grep -m1 -o 'memory: RSS goal[^"]*' "$tmp/err" || echo 'no memory plan logged')"
echo "# daemon: $summary"
awk -v limit="$LIMIT_MB" -v cpu="$cpu" -v gccpu="$gccpu" -v gcs="$gcs" -v calls="$calls" -v busy="$busy" -v em="$em" -v el="$(($(date +%s) - start))" \
	-v sd="$sd" -v n="$n" -v summary="$summary" '
function mib(k) { return k / 1024 }
{
	if ($3 > maxrss) maxrss = $3
	if ($4 > hwm) hwm = $4
	# the last sample of each phase: RSS after that burst or quiet period
	if (prev != "" && $2 != prev) last[prev] = line
	prev = $2; line = $0
}
END {
	for (p in last) {
		split(last[p], f, " ")
		kind = (p ~ /^burst/) ? "burst" : (p ~ /^quiet/) ? "quiet" : ""
		if (kind == "") continue
		cnt[kind]++; rss[kind] += f[3]; anon[kind] += f[5]; file[kind] += f[6]
		inuse[kind] += f[7]; idle[kind] += f[8]; rel[kind] += f[9]
		if (f[3] > top[kind]) top[kind] = f[3]
	}
	printf "bursts %d  load %.0f getppid/s in bursts  records emitted %.0f/s over the run\n", n, calls / busy, em / el
	printf "daemon CPU %.1f s (%.0f ns per record), of which the collector %.1f s (%.0f%%) in %d cycles\n", cpu, cpu * 1e9 / (em > 0 ? em : 1), gccpu, 100 * gccpu / (cpu > 0 ? cpu : 1), gcs
	printf "VmRSS max %.1f MiB  VmHWM %.1f MiB  (limit %d MiB: %s)\n", mib(maxrss), mib(hwm), limit, (mib(hwm) <= limit ? "within" : sprintf("over by %.1f MiB", mib(hwm) - limit))
	for (k in cnt)
		printf "after %s (%d): VmRSS mean %.1f max %.1f MiB (anon %.1f, file %.1f); Go heap in use %.1f, idle %.1f, released %.1f MiB (means)\n",
			k, cnt[k], mib(rss[k] / cnt[k]), mib(top[k]), mib(anon[k] / cnt[k]), mib(file[k] / cnt[k]),
			inuse[k] / cnt[k] / 1048576, idle[k] / cnt[k] / 1048576, rel[k] / cnt[k] / 1048576
	lostbad = (summary ~ /lost=[1-9]/ || summary ~ /dropped=[1-9]/ || sd > 0)
	printf "lost or dropped: %s\n", (lostbad ? "YES (" summary ")" : "none")
	ok = (mib(hwm) <= limit && !lostbad)
	print (ok ? "PASS" : "FAIL")
	exit !ok
}' "$tmp/samples"
