#!/bin/bash
# scripts/vm/run.sh - build the kernel modules and the Go test binaries,
# boot Debian's kernel (the one linux-headers-amd64 is for) under qemu with
# them in a busybox initramfs, run the tests there, and exit with their
# result. `make test-vm` runs this; CI runs `make test-vm`.
#
# What runs in the guest: every line of scripts/vm/packages.txt,
#   <go package path> [test binary arguments...]
# built with CGO_ENABLED=0 `go test -c` and run as root with AINKA_VM=1,
# after ainka_core (default 10 ms sampler), ainka_enhanced and the test
# consumer are inserted. The guest has /proc, /sys, devtmpfs, tracefs,
# debugfs, bpffs, cgroup2 at /sys/fs/cgroup (with the memory controller),
# /sys/kernel/btf/vmlinux, /tmp, /dev/ram0 and /dev/ram1 (128 MiB each,
# allocated as written; ram1 is a test's swap) and unlimited memlock.
#
# Environment:
#   KDIR              kernel headers (default: newest /usr/src/linux-headers-*-amd64)
#   AINKA_VM_CACHE    vmlinuz + brd.ko cache (default /var/cache/ainka-vm)
#   AINKA_VM_TIMEOUT  seconds for the whole guest run (default 300)
#   AINKA_VM_ACCEL    qemu -accel value, used as given; default: kvm if a probe
#                     guest boots under it (result cached per host kernel), else
#                     tcg,thread=single (see below)
#   AINKA_VM_KEEP     keep the work directory (serial log, initramfs)
#   AINKA_VM_PACKAGES another package list instead of scripts/vm/packages.txt
#   AINKA_VM_VERBOSE  print the whole serial log
#   AINKA_VM_APPEND   more guest kernel command line, e.g.
#                     "softlockup_all_cpu_backtrace=1 panic_print=0x1" to get
#                     every CPU's stack and every task's state on a lockup
set -euo pipefail
trap 'echo "test-vm: FAIL: $BASH_COMMAND exited $? (line $LINENO)" >&2' ERR

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${AINKA_VM_CACHE:-/var/cache/ainka-vm}
TIMEOUT=${AINKA_VM_TIMEOUT:-300}
ACCEL=${AINKA_VM_ACCEL:-}
PKGLIST=${AINKA_VM_PACKAGES:-$ROOT/scripts/vm/packages.txt}

say() { echo "test-vm: $*" >&2; }
die() { say "$*"; exit 1; }

# --- host dependencies -------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v gcc-12 >/dev/null || need+=(gcc-12)
command -v make >/dev/null || need+=(make)
ls -d /usr/src/linux-headers-*-amd64 >/dev/null 2>&1 || need+=(linux-headers-amd64)
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	[ "$(id -u)" = 0 ] || die "need root to apt-get install ${need[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
KDIR=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 | sort -V | tail -1)}
KVER=${KDIR##*/linux-headers-}
[ -d "$KDIR" ] || die "no kernel headers at $KDIR"

# --- the guest kernel: vmlinuz (+ brd.ko) from the matching linux-image --
KC=$CACHE/$KVER
if [ ! -f "$KC/vmlinuz" ] || [ ! -f "$KC/brd.ko" ]; then
	say "fetching linux-image-$KVER into $KC"
	mkdir -p "$KC"
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download "linux-image-$KVER" >/dev/null 2>&1) ||
		{ apt-get update -qq && (cd "$tmp" && apt-get download "linux-image-$KVER"); } ||
		die "cannot download linux-image-$KVER"
	dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/x"
	cp "$tmp/x/boot/vmlinuz-$KVER" "$KC/vmlinuz"
	brd=$(find "$tmp/x/lib/modules" -name 'brd.ko*' | head -1)
	case "$brd" in
	*.xz) xz -dc "$brd" >"$KC/brd.ko" ;;
	*.zst) zstd -qdc "$brd" >"$KC/brd.ko" ;;
	*) cp "$brd" "$KC/brd.ko" ;;
	esac
	rm -rf "$tmp"
fi

# --- accelerator: KVM only when a probe guest really boots under it ------
# (/dev/kvm may exist and still hang a nested guest, as on the CI VMs.)
if [ -z "$ACCEL" ]; then
	ACCEL=tcg
	if [ -w /dev/kvm ]; then
		probe=$CACHE/kvm-probe-$(uname -r)
		if [ ! -f "$probe" ]; then
			p=$(mktemp -d)
			mkdir -p "$p/r/bin"
			cp /bin/busybox "$p/r/bin/"
			printf '#!/bin/busybox sh\n/bin/busybox echo AINKA-KVM-OK\n/bin/busybox poweroff -f\n' >"$p/r/init"
			chmod 0755 "$p/r/init"
			(cd "$p/r" && find . | cpio -o -H newc --quiet | gzip -1 >"$p/i.gz")
			timeout 30 qemu-system-x86_64 -accel kvm -m 256M -display none -monitor none \
				-serial "file:$p/log" -net none -no-reboot -kernel "$KC/vmlinuz" \
				-initrd "$p/i.gz" -append "console=ttyS0 panic=-1 quiet" </dev/null >/dev/null 2>&1 || true
			if grep -qa AINKA-KVM-OK "$p/log" 2>/dev/null; then echo kvm >"$probe"; else echo tcg >"$probe"; fi
			rm -rf "$p"
		fi
		ACCEL=$(cat "$probe")
	fi
	# Multi-threaded TCG (QEMU 7.2, one host thread per vCPU) can keep
	# running a stale translation of kernel text that another vCPU is
	# patching: when the guest flips a jump label with text_poke_bp (every
	# attach and detach of a tp_btf program flips raw_syscalls:sys_enter),
	# a vCPU translating the site during the patch can cache the transient
	# int3; once the patch is done, each int3 hit is taken as a breakpoint
	# "removed right after we hit it" (kprobe_int3_handler), the IP is
	# backed up and the stale int3 runs again, for ever: both CPUs stuck at
	# syscall_trace_enter+0xe9, a soft lockup (docs/dev/bpf-6.1-lockup.md).
	# One thread for all vCPUs serialises translation and patching.
	[ "$ACCEL" != tcg ] || ACCEL=tcg,thread=single
fi

# --- build -------------------------------------------------------------
WORK=$(mktemp -d /tmp/ainka-vm.XXXXXX)
[ -n "${AINKA_VM_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
say "building modules against $KDIR"
make -s -C "$ROOT/kmod" KDIR="$KDIR" >"$WORK/kmod.log" 2>&1 || { cat "$WORK/kmod.log" >&2; die "module build failed"; }

R=$WORK/root
mkdir -p "$R"/{bin,sbin,proc,sys,dev,tmp,run,ainka,tests}
cp /bin/busybox "$R/bin/busybox"
cp "$ROOT/kmod/ainka_core.ko" "$ROOT/kmod/ainka_enhanced.ko" "$ROOT/kmod/test/ainka_consumer.ko" "$KC/brd.ko" "$R/ainka/"

: >"$R/tests/list"
n=0
while read -r pkg args; do
	case "$pkg" in ''|'#'*) continue ;; esac
	n=$((n + 1))
	name=$(printf '%02d-%s' "$n" "$(echo "$pkg" | tr -c 'A-Za-z0-9\n' '_' | sed 's/^_*//')")
	say "go test -c $pkg"
	(cd "$ROOT" && CGO_ENABLED=0 go test -c -o "$R/tests/$name.test" "$pkg") || die "cannot build $pkg"
	[ -f "$R/tests/$name.test" ] || die "$pkg has no tests"
	echo "$name $args" >>"$R/tests/list"
done <"$PKGLIST"
[ "$n" -gt 0 ] || die "no packages in $PKGLIST"

# Probe plugin examples, where the tests' relative paths find them from
# the guest's working directory, /.
mkdir -p "$R/examples/plugins"
cp -r "$ROOT/examples/plugins/probes" "$R/examples/plugins/"
cp "$ROOT/scripts/vm/init.sh" "$R/init"
chmod 0755 "$R/init" "$R"/tests/*.test
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1 >"$WORK/initramfs.gz")

# --- boot --------------------------------------------------------------
LOG=$WORK/serial.log
say "booting $KVER ($ACCEL), timeout ${TIMEOUT}s"
start=$(date +%s)
# loglevel=5: warnings and the stack traces that follow them reach the
# serial log; softlockup_panic: a locked-up guest ends now, not at timeout.
qrc=0
timeout "$TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -m 1G -smp 2 -cpu max \
	-display none -monitor none -serial "file:$LOG" -net none -no-reboot \
	-kernel "$KC/vmlinuz" -initrd "$WORK/initramfs.gz" \
	-append "console=ttyS0 panic=-1 loglevel=5 softlockup_panic=1 ${AINKA_VM_APPEND:-}" </dev/null || qrc=$?
elapsed=$(( $(date +%s) - start ))
tr -d '\r' <"$LOG" >"$LOG.txt"
if [ -n "${AINKA_VM_VERBOSE:-}" ]; then cat "$LOG.txt"; fi

result=$(grep -a '^AINKA-VM-RESULT:' "$LOG.txt" | tail -1 || true)
grep -a '^AINKA-VM-FIGURE:' "$LOG.txt" | sed 's/^AINKA-VM-FIGURE: /test-vm: figure: /' >&2 || true
if [ "$result" = "AINKA-VM-RESULT: PASS" ]; then
	say "PASS in ${elapsed}s"
	exit 0
fi
# Failure: show the guest's log so CI has everything in one place: the end
# of the log (dmesg), then the failed tests' own lines LAST, since a CI
# report often keeps only the last lines of the output.
sed 's/^/  guest| /' "$LOG.txt" | tail -n 120 >&2
grep -a -E '^(=== [^R]|--- FAIL|FAIL|panic:|    [A-Za-z0-9_]+\.go:[0-9]+:)' "$LOG.txt" | grep -av '^=== \(PAUSE\|CONT\)' |
	sed 's/^/  guest-tests| /' | tail -n 150 >&2 || true
# Each failed test's own lines (go test -v streams them under "=== RUN X" /
# "=== NAME X"), printed at its "--- FAIL: X".
awk '/^=== (RUN|NAME|CONT) /{cur=$3; next}
	/^--- FAIL: /{n=$3; printf "%s", buf[n]; print; next}
	/^panic:/{print; next}
	cur!=""{buf[cur]=buf[cur] $0 "\n"}' "$LOG.txt" | sed 's/^/  failed| /' | tail -n 40 >&2 || true
if [ -z "$result" ]; then
	[ "$qrc" = 124 ] && die "FAIL: guest timed out after ${TIMEOUT}s" 
	die "FAIL: no result marker (guest panicked or died, qemu exit $qrc)"
fi
die "${result#AINKA-VM-RESULT: }"
