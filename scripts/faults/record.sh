#!/bin/bash
# Record the kernel-fault benchmark (testdata/faults/, issue 15): one trace
# of a steady background workload with seven faults injected at known
# times, and NAB-style label windows beside it.
#
#   scripts/faults/record.sh [OUTDIR]        # root; bin/ainka from make build
#
# NAME (faults) names the trace and labels (OUTDIR/NAME.trace,
# OUTDIR/NAME.labels.json); FAULTS (all seven) chooses which faults run,
# in order. The long clean recording (testdata/faults/clean.*, ten clean
# minutes and then the memory leak) is
#
#   NAME=clean FAULTS=memory_leak LEAD_S=620 SCHED=96 PGFAULT=384 BLOCK=24 scripts/faults/record.sh
#
# Run it under the shared live lock (other helpers' load would be in the
# data): flock /work/live.lock scripts/faults/record.sh
#
# Each fault runs FAULT_S seconds after CLEAN_S seconds of background only;
# the first LEAD_S seconds let the detectors warm up (300 windows). The
# labels are CLOCK_MONOTONIC nanoseconds, the clock of the trace's event
# timestamps, taken just before each fault starts and after it ends.
set -euo pipefail
out=${1:-testdata/faults}
ainka=${AINKA:-bin/ainka}
LEAD_S=${LEAD_S:-40} CLEAN_S=${CLEAN_S:-30} FAULT_S=${FAULT_S:-12}
# Sampling of the most frequent kinds (1 in N): the trace must stay under
# 20 MiB; how much each kind brings depends on what else the host does.
SCHED=${SCHED:-32} PGFAULT=${PGFAULT:-128} BLOCK=${BLOCK:-8} SYSCALL=${SYSCALL:-512}
[ "$(id -u)" = 0 ] || { echo "record.sh: needs root (ainka record)" >&2; exit 3; }
for t in stress-ng fio python3 "$ainka"; do
	command -v "$t" >/dev/null || { echo "record.sh: $t not found" >&2; exit 3; }
done
mkdir -p "$out"
NAME=${NAME:-faults}
trace=$out/$NAME.trace labels=$out/$NAME.labels.json
fiofile=/var/tmp/ainka-faults-fio.dat memfile=/var/tmp/ainka-faults-mem.dat
memcg=/sys/fs/cgroup/memory/ainka-faults
MEMCG_MB=${MEMCG_MB:-256}

now() { python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))'; }
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -f "$fiofile" "$memfile"
	[ -d "$memcg" ] && rmdir "$memcg" 2>/dev/null || true
}
trap cleanup EXIT

# The faults. Each runs for FAULT_S seconds and then ends by itself.
fork_storm() {
	timeout "$FAULT_S" sh -c 'while :; do /bin/true; done' &
	local p=$!
	timeout "$FAULT_S" sh -c 'while :; do /bin/true; done' || true
	wait "$p" || true # that one only: a bare wait would wait for the background workload and the recording
}
cpu_hog() { stress-ng --cpu 1 --cpu-method matrixprod --timeout "${FAULT_S}s" -q; }
# A leak growing to memory pressure, inside a MEMCG_MB memory cgroup (v1)
# so that no other process on the machine is at risk. Without swap a
# leak alone is either under the limit (no pressure: nothing to reclaim)
# or killed at it; a real leak squeezes the cache of the work beside it.
# So a reader re-reads a file half the limit's size in the same cgroup
# while the leak grows (8 MiB every 50 ms, written so that the pages are
# really charged) to 40 MiB under the limit and stays: the reader's cache
# no longer fits, every pass is reclaimed and refaulted (thrashing), and
# the cgroup's reclaim and the refaults are memory stalls the host's PSI
# counts.
leak_py='
import os, sys, threading, time
path, target = sys.argv[1], int(sys.argv[2]) << 20
def reread():
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # charge its cache here, not to the creator
    while True:
        os.lseek(fd, 0, os.SEEK_SET)
        while os.read(fd, 1 << 20):
            pass
threading.Thread(target=reread, daemon=True).start()
leak = []
while True:
    if len(leak) * (8 << 20) < target:
        leak.append(bytearray(b"\x01") * (8 << 20))
    time.sleep(0.05)
'
memory_leak() {
	mkdir -p "$memcg"
	echo $((MEMCG_MB << 20)) >"$memcg/memory.limit_in_bytes"
	dd if=/dev/urandom of="$memfile" bs=1M count=$((MEMCG_MB / 2)) conv=fsync status=none
	timeout "$FAULT_S" sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec python3 -c "$@"' sh "$memcg" "$leak_py" "$memfile" $((MEMCG_MB - 40)) || true
	echo "record.sh: memory-leak: cgroup peak $(($(cat "$memcg/memory.max_usage_in_bytes") >> 20)) MiB of $MEMCG_MB, failcnt $(cat "$memcg/memory.failcnt")" >&2
}
failing_open() { timeout "$FAULT_S" python3 -c '
import os
while True:
    try:
        os.open("/nonexistent/ainka-fault", os.O_RDONLY)
    except OSError:
        pass
' || true; }
io_saturation() { fio --name=faults --filename="$fiofile" --rw=randread --bs=4k --direct=1 --ioengine=libaio --iodepth=32 --size=256M --runtime="$FAULT_S" --time_based >/dev/null; }
net_flood() { stress-ng --udp 2 --udp-domain ipv4 --timeout "${FAULT_S}s" -q; }
# Many more runnable threads than CPUs: every task waits longer to run.
sched_latency() { stress-ng --cpu 24 --cpu-method int64 --timeout "${FAULT_S}s" -q; }
read -ra faults <<<"${FAULTS:-fork_storm cpu_hog memory_leak failing_open io_saturation net_flood sched_latency}"

[[ " ${faults[*]} " == *" io_saturation "* ]] && fio --name=prep --filename="$fiofile" --rw=write --bs=1M --direct=1 --size=256M >/dev/null
# Each fault overruns FAULT_S by a few seconds (start-up, fio's set-up):
# 6 s of slack each keeps the last one inside the recording.
total=$((LEAD_S + ${#faults[@]} * (FAULT_S + CLEAN_S + 6) + 5))

# The steady background: a quarter of one CPU busy, a small write every
# 200 ms, as a lightly loaded server would be.
stress-ng --cpu 1 --cpu-load 25 --timeout "$((total + 10))s" -q & pids+=($!)
(while sleep 0.2; do dd if=/dev/zero of=/var/tmp/ainka-faults-bg bs=64k count=4 conv=fsync 2>/dev/null; done) & pids+=($!)
sleep 2

"$ainka" record -o "$trace" --duration "${total}s" \
	--sample syscall="$SYSCALL" --sample sched_switch="$SCHED" --sample sched_wakeup="$SCHED" \
	--sample page_fault="$PGFAULT" --sample net_rx=64 --sample block_io="$BLOCK" \
	--note "faults: background stress-ng --cpu 1 --cpu-load 25 + 64k fsync writes every 200ms; syscalls 1 in $SYSCALL, sched 1 in $SCHED, page faults 1 in $PGFAULT, block 1 in $BLOCK; faults ${faults[*]} for ${FAULT_S}s each after ${CLEAN_S}s clean, ${LEAD_S}s lead (scripts/faults/record.sh)" &
rec=$!
sleep "$LEAD_S"
{
	echo '{"faults": ['
	sep=""
	for f in "${faults[@]}"; do
		start=$(now)
		"$f" || echo "record.sh: fault $f failed (exit $?); its window stays labelled" >&2
		end=$(now)
		printf '%s  {"name": "%s", "start_ns": %s, "end_ns": %s}' "$sep" "${f//_/-}" "$start" "$end"
		sep=$',\n'
		sleep "$CLEAN_S"
	done
	printf '\n]}\n'
} >"$labels.tmp"
wait "$rec"
mv "$labels.tmp" "$labels"
rm -f /var/tmp/ainka-faults-bg
ls -l "$trace" "$labels"
