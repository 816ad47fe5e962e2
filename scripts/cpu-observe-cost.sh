#!/bin/bash
# cpu-observe-cost.sh: what the AINKA daemon's own observation costs a
# latency-sensitive task. The bench's cpu-contention workload with the hogs
# at SCHED_IDLE throughout (the oracle's best setting), cyclictest's p99 per
# 6 s phase, the daemon off, running in full, off, capturing only
# sched_switch/sched_wakeup, in turns (tuners advising: it changes nothing).
#
#   flock /work/live.lock nice -n 5 scripts/cpu-observe-cost.sh CONFIG [OUT] [ROUNDS]
#
# CONFIG is an ainka configuration whose paths are in a scratch directory:
# the one a bench run wrote (bench-out/logs/cpu-contention-ainka-0/ainka.toml).
# Root; needs bin/ (make build), stress-ng, cyclictest, chrt.
set -eu
if [ $# -lt 1 ] || [ ! -r "$1" ]; then
	echo "usage: cpu-observe-cost.sh CONFIG [OUT] [ROUNDS] (CONFIG: a readable ainka configuration)" >&2
	exit 2
fi
cfg=$1
out=${2:-/tmp/cpu-observe-cost}
rounds=${3:-3}
bin=$(cd "$(dirname "$0")/../bin" && pwd)
for t in stress-ng cyclictest chrt; do
	command -v $t >/dev/null || { echo "cpu-observe-cost: $t missing" >&2; exit 3; }
done
mkdir -p "$out"
n=$((4 * rounds))
addr=127.0.0.1:$((20000 + $$ % 20000))
"$bin/ainka-bench" internal rr-server "$addr" & srv=$!
chrt --idle 0 stress-ng --cpu 4 --timeout $((n * 9 + 10))s >/dev/null & hog=$!
trap 'kill $srv $hog ${rr:-} 2>/dev/null; wait' EXIT
sleep 1
"$bin/ainka-bench" internal rr-client "$addr" 1000 $((n * 9))s >"$out/rr.txt" 2>&1 & rr=$!
p99() { # p99 of a cyclictest histogram file
	awk '!/^#/ && NF >= 2 { c[$1 + 0] += $2; n += $2 } END { for (i = 0; i < 20000; i++) { s += c[i]; if (s >= 0.99 * n) { print i; exit } } }' "$1"
}
for i in $(seq 0 $((n - 1))); do
	case $((i % 4)) in
	1) ph=full; args=() ;;
	3) ph=sched; args=(--kinds sched_switch,sched_wakeup) ;;
	*) ph=off ;;
	esac
	if [ $ph != off ]; then
		"$bin/ainka" run --config "$cfg" --tuners advise --view off "${args[@]}" >"$out/ainka.$i.log" 2>&1 & d=$!
	fi
	sleep 2
	cyclictest -t1 -p0 --policy=other -i1000 -D 6 -q -h 20000 --histfile="$out/hist.$i.$ph" >/dev/null 2>&1
	[ $ph = off ] || { kill -TERM $d; wait $d || true; }
	echo "phase $i daemon $ph: cyclictest p99 $(p99 "$out/hist.$i.$ph") µs (load $(cut -d' ' -f1 /proc/loadavg))"
done
