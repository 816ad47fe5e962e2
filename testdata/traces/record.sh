#!/bin/sh
# Re-record the workload traces of this directory (see README.md), all of
# them or those named as arguments (./record.sh idle cpu). Needs
# root, stress-ng and fio. Each trace is captured while its workload runs;
# sampling keeps every file under 5 MiB. The golden outputs must be
# regenerated afterwards: go test ./cmd/ainka -run TestGolden -update
set -eu
cd "$(dirname "$0")"
AINKA=${AINKA:-../../bin/ainka}
FIO_FILE=${FIO_FILE:-/var/tmp/ainka-fio.dat}
D=2s

ONLY=" $* "
rec() { # name, extra record flags..., -- workload command...
	name=$1; shift
	case "$ONLY" in "  " | *" $name "*) ;; *) return 0 ;; esac
	flags=""
	while [ "$1" != "--" ]; do flags="$flags $1"; shift; done
	shift
	"$@" &
	wl=$!
	sleep 0.5 # let the workload reach its steady state
	# shellcheck disable=SC2086
	"$AINKA" record -o "$name.trace" --duration $D $flags --note "$name: $*"
	wait "$wl" || true
}

# idle: nothing started by us (other processes of the VM run as usual).
rec idle --sample syscall=16 --sample page_fault=16 -- sleep 4
# CPU-bound: 2 stress-ng CPU workers on the 2 CPUs.
rec cpu --sample syscall=4 --sample page_fault=4 -- stress-ng --cpu 2 --cpu-method matrixprod --timeout 4s --quiet
# fork/exec-heavy: a shell forks and execs /bin/true in a loop.
rec forkexec --sample syscall=16 --sample page_fault=16 -- timeout 4 sh -c 'while :; do /bin/true; done'
# fio random 4 KiB reads, O_DIRECT, queue depth 16 on the root disk (vda).
case "$ONLY" in "  " | *" fio-"*) fio --name=prep --filename="$FIO_FILE" --size=256M --rw=write --bs=1M --direct=1 --output=/dev/null ;; esac
rec fio-randread --sample syscall=64 --sample page_fault=8 --sample block_io=4 --sample sched_switch=2 --sample sched_wakeup=2 -- fio --name=randread --filename="$FIO_FILE" --size=256M --rw=randread --bs=4k --direct=1 --ioengine=libaio --iodepth=16 --runtime=4 --time_based --output=/dev/null
# fio sequential 128 KiB reads, O_DIRECT, queue depth 4.
rec fio-seqread --sample syscall=128 --sample page_fault=8 --sample sched_switch=2 --sample sched_wakeup=2 -- fio --name=seqread --filename="$FIO_FILE" --size=256M --rw=read --bs=128k --direct=1 --ioengine=libaio --iodepth=4 --runtime=4 --time_based --output=/dev/null
rm -f "$FIO_FILE"
# network on loopback: stress-ng UDP workers send and receive on 127.0.0.1.
rec net-loopback --sample syscall=256 --sample net_rx=32 --sample sched_switch=8 --sample sched_wakeup=8 --sample page_fault=8 -- stress-ng --udp 1 --udp-domain ipv4 --timeout 4s --quiet
ls -l ./*.trace
