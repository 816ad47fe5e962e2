#!/bin/sh
# closed-loop.sh — the end-to-end experiment of the decide and actuate
# stages on a real workload (issue 5): stress-ng CPU hogs and cyclictest
# (SCHED_OTHER, 1 kHz) in separate cgroups; the live eBPF pipeline sees
# run-queue latency from sched events; the policy
#   runq_latency_p99_us > THRESHOLD for 1s  ->  cgroup HOGS cpu.weight = 10
# lowers the hogs' CPU weight (as cgroup v1 cpu.shares on hosts whose cpu
# controller is bound to v1). Runs alternate AINKA off / AINKA on; then a
# probe run measures the time from a condition becoming true (the end of the
# window whose statistics make it true, CLOCK_MONOTONIC) to the write being
# applied, at volume.
#
# Usage: sudo scripts/closed-loop.sh [RUNS] [RUN_SECONDS] [-- extra test flags]
#   extra test flags: -read-deadline D (0s: the source default for the
#        interval), -host-phase D (host samples D past each window end, a
#        watermark that closes the window; default as ainka run, 100 µs;
#        0s = unaligned, windows close on lateness), -rt N (SCHED_FIFO
#        stage threads at priority N, pipeline.Options.RealTime)
#   env: INTERVAL (100ms), LATENESS (2ms; 0 = aggregator default), HOGS (4),
#        THRESHOLD_US (2000), PROBE_SECONDS (60), NICE (-10: the daemon's
#        priority, as the systemd unit would give it), OUT (report JSON)
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-5}
RUN_SECONDS=${2:-20}
[ $# -ge 2 ] && shift 2 || shift $#
[ "${1:-}" = "--" ] && shift
if [ "$(id -u)" != 0 ]; then echo "closed-loop.sh: needs root (eBPF, cgroups)" >&2; exit 3; fi
for b in stress-ng cyclictest; do
	command -v "$b" >/dev/null || { echo "closed-loop.sh: needs $b (apt-get install stress-ng rt-tests)" >&2; exit 3; }
done
OUT=${OUT:-closed-loop-report.json}
AINKA_CLOSED_LOOP=1 AINKA_CLOSED_LOOP_OUT="$(pwd)/$OUT" \
exec nice -n "${NICE:--10}" go test ./stages/actuate/closedloop/ -run '^TestClosedLoop$' -v -count=1 -timeout 60m -args \
	-runs "$RUNS" -run-for "${RUN_SECONDS}s" -interval "${INTERVAL:-100ms}" -lateness "${LATENESS:-2ms}" \
	-hogs "${HOGS:-4}" -threshold-us "${THRESHOLD_US:-2000}" -latency-for "${PROBE_SECONDS:-60}s" "$@"
