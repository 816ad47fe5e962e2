#!/bin/sh
# Data-plane benchmarks (make bench). Short runs on one P: the figures in
# docs/performance.md come from one run of this script. As root it then
# measures the probe's cost per syscall, the live pipeline at controlled
# rates (scripts/bench-live.sh, about 2 minutes) and the memory bound
# (scripts/soak.sh: VmHWM ≤ max_memory_mb over bursts, 10 minutes).
#   BENCHTIME=1s scripts/bench.sh       # longer runs
#   BENCH_TRACE=FILE scripts/bench.sh   # replay benchmark on another trace
#   BENCH_LIVE=0 scripts/bench.sh       # without the live part
#   SOAK_SECONDS=120 scripts/bench.sh   # a shorter soak (0: none)
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
BENCHTIME=${BENCHTIME:-500ms}
export GOMAXPROCS=1

echo "# $(date -u +%FT%TZ) $(uname -r) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') GOMAXPROCS=1 benchtime=$BENCHTIME"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Per-stage costs: ns/op is per record or event, allocs/op must be 0.
$GO test -run '^$' -bench 'BenchmarkReader|BenchmarkWriter' -benchmem -benchtime "$BENCHTIME" ./trace
$GO test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" ./stages/decode ./stages/aggregate

# Replay through every stage (as `ainka replay`), on the synthetic mix and
# on each recorded workload trace; one test binary for all of them.
# -benchtime Nx is in events.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$GO test -c -o "$tmp/replay.test" ./cmd/ainka
root=$PWD
cd cmd/ainka
"$tmp/replay.test" -test.run '^$' -test.bench BenchmarkReplay -test.benchmem -test.benchtime 4000000x
for t in "$root"/testdata/traces/*.trace; do
	echo "# trace ${t#"$root"/}"
	BENCH_TRACE=$t "$tmp/replay.test" -test.run '^$' -test.bench BenchmarkReplay -test.benchmem -test.benchtime 2000000x
done

# Probe cost per syscall and the live pipeline at controlled rates: real
# kernel paths, so only as root (BENCH_LIVE=0 skips them).
cd "$root"
if [ "$(id -u)" = 0 ] && [ "${BENCH_LIVE:-1}" != 0 ]; then
	unset GOMAXPROCS
	echo "# probe cost per getpid (wall clock, min of 5 rounds; and the programs' own run time)"
	$GO test -run '^$' -bench 'BenchmarkGetpidOverhead|BenchmarkProgramCost' -benchtime 1x ./stages/source
	echo "# live: ainka run at controlled syscall rates (scripts/bench-live.sh)"
	scripts/bench-live.sh
	if [ "${SOAK_SECONDS:-600}" != 0 ]; then
		echo "# memory: RSS under bursts and quiet periods (scripts/soak.sh ${SOAK_SECONDS:-600})"
		scripts/soak.sh "${SOAK_SECONDS:-600}"
	fi
else
	echo "# live benchmarks skipped (need root; BENCH_LIVE=0)"
fi
