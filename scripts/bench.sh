#!/bin/sh
# Data-plane benchmarks (make bench). Short runs on one P: the figures in
# docs/performance.md come from one run of this script.
#   BENCHTIME=1s scripts/bench.sh       # longer runs
#   BENCH_TRACE=FILE scripts/bench.sh   # replay benchmark on another trace
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

# Replay through every wired stage (as `ainka replay`), on the synthetic
# mix and on each recorded workload trace. -benchtime Nx is in events.
$GO test -run '^$' -bench BenchmarkReplay -benchmem -benchtime 4000000x ./cmd/ainka
for t in testdata/traces/*.trace; do
	echo "# trace $t"
	BENCH_TRACE=$PWD/$t $GO test -run '^$' -bench BenchmarkReplay -benchmem -benchtime 2000000x ./cmd/ainka
done
