#!/usr/bin/env bash
# Tests of scripts/install.sh and scripts/uninstall.sh, on the real scripts,
# the real binaries (bin/) and the real kernel modules (kmod/*.ko, built
# when missing).
#
#   scripts/install_test.sh          into a DESTDIR laid out like a root
#                                    (make test-install; any user)
#   scripts/install_test.sh --real   on this system, as root; refuses when
#                                    AINKA is installed (CI runs this)
#
# Each case starts from a snapshot of the installation's directories and
# checks that uninstalling returns them to exactly that snapshot:
#   install, uninstall, then PURGE=1 uninstall with no manifest left
#   install, PURGE=1 uninstall
#   a missing tool (modinfo hidden from PATH): named, nothing written
#   a failure half-way (a directory where a file goes) on a fresh system and
#     over an earlier installation: rolled back, replaced files restored
#   an install killed (SIGKILL) at several points: still fully removable
#   (--real) a stale /run/ainka of a stopped daemon is removed
#   make clean-cache removes the VM cache it names
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REAL=0
[[ ${1:-} == --real ]] && REAL=1

pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'PASS  %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL  %s\n' "$*"; }
check() { # DESCRIPTION COMMAND...: PASS when COMMAND succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

tmp=$(mktemp -d /tmp/ainka-install-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
[[ -x bin/ainka && -x bin/ainka-cli ]] || make -s build || exit 1
shopt -s nullglob
kos=(kmod/*.ko)
if [[ ${#kos[@]} -eq 0 ]]; then
	make -s -C kmod >"$tmp/kmod.log" 2>&1 || { cat "$tmp/kmod.log"; echo "install_test: cannot build the modules (make dev-setup)" >&2; exit 1; }
	kos=(kmod/*.ko)
fi
rel=$(modinfo -F vermagic "${kos[0]}" | cut -d' ' -f1)

if [[ $REAL == 1 ]]; then
	[[ $(id -u) -eq 0 ]] || { echo "install_test: --real needs root" >&2; exit 1; }
	[[ ! -e /usr/local/share/ainka/install-manifest && ! -e /etc/ainka ]] ||
		{ echo "install_test: --real refuses to run over an existing installation (/usr/local/share/ainka, /etc/ainka)" >&2; exit 1; }
	. "$repo/scripts/lib/state_aside.sh"
	state_aside "$tmp"
	trap 'state_back "$tmp"; rm -rf "$tmp"' EXIT
	D=
else
	D=$tmp/root
	# The directories a Debian system already has.
	mkdir -p "$D"/{etc/systemd/system,var/lib,usr/local/bin,usr/local/share/man,lib/modules/"$rel"}
fi
run_install() { DESTDIR=$D PREFIX=/usr/local BIN=bin "$repo/scripts/install.sh" "$@"; }
run_uninstall() { DESTDIR=$D PREFIX=/usr/local "$repo/scripts/uninstall.sh" "$@"; }

# snapshot: every path (with its type) under the directories an
# installation touches.
snapshot() {
	local p
	for p in /usr/local /etc/ainka /etc/systemd/system /var/lib/ainka /run/ainka /lib/modules/"$rel"; do
		[[ -e $D$p ]] && find "$D$p" -printf '%y %p\n'
	done | sort
}
same_as_before() { # LABEL: the snapshot equals $tmp/before
	snapshot >"$tmp/after"
	if diff "$tmp/before" "$tmp/after" >"$tmp/diff"; then
		ok "$1: nothing left behind"
	else
		bad "$1: left behind (>) or removed (<): $(grep '^[<>]' "$tmp/diff" | head -8 | tr '\n' ' ')"
	fi
}
snapshot >"$tmp/before"

case_install_uninstall_purge() {
	run_install >"$tmp/out" 2>&1 || { bad "install: $(tail -3 "$tmp/out")"; return; }
	local m=$D/usr/local/share/ainka/install-manifest missing=0 f
	while IFS= read -r f; do [[ -e $D$f ]] || missing=$((missing + 1)); done <"$m"
	check "install: every manifest entry exists ($(wc -l <"$m") entries)" test "$missing" -eq 0
	check "install: modules in /lib/modules/$rel/extra/ainka" test -f "$D/lib/modules/$rel/extra/ainka/ainka_core.ko"
	check "install: the unit names PREFIX's binary" grep -q '^ExecStart=/usr/local/bin/ainka run' "$D/etc/systemd/system/ainka.service"
	# Every new path is listed (directories with a slash), but the state dir.
	snapshot >"$tmp/now"
	comm -13 "$tmp/before" "$tmp/now" | cut -d' ' -f2- | sed "s#^$D##" | grep -vx '/var/lib/ainka' >"$tmp/new"
	sed 's#/$##' "$m" | sort >"$tmp/listed"
	check "install: the manifest lists every new path" test -z "$(comm -23 <(sort "$tmp/new") "$tmp/listed")"
	run_uninstall >"$tmp/out" 2>&1 || bad "uninstall: $(tail -3 "$tmp/out")"
	check "uninstall: configuration kept" test -f "$D/etc/ainka/config.toml"
	check "uninstall: no binary left" test ! -e "$D/usr/local/bin/ainka"
	check "uninstall: /lib/modules/$rel/extra removed" test ! -e "$D/lib/modules/$rel/extra"
	PURGE=1 run_uninstall >"$tmp/out" 2>&1 && ok "PURGE=1 uninstall after a plain uninstall" || bad "PURGE=1 after uninstall: $(tail -3 "$tmp/out")"
	same_as_before "install, uninstall, PURGE=1 uninstall"
}

case_install_purge() {
	run_install >"$tmp/out" 2>&1 || { bad "install: $(tail -3 "$tmp/out")"; return; }
	PURGE=1 run_uninstall >"$tmp/out" 2>&1 || bad "PURGE=1 uninstall: $(tail -3 "$tmp/out")"
	same_as_before "install, PURGE=1 uninstall"
	run_uninstall >"$tmp/out" 2>&1
	check "uninstall with nothing installed: exit 1 naming the manifest" grep -q 'no install manifest at' "$tmp/out"
}

# A PATH with every command of this system but modinfo.
case_missing_tool() {
	local p=$tmp/path d
	mkdir -p "$p"
	# Last wins: the directories in reverse PATH order.
	for d in /bin /sbin /usr/bin /usr/sbin /usr/local/go/bin; do
		[[ -d $d ]] && ln -sf "$d"/* "$p"/
	done
	rm -f "$p/modinfo"
	PATH=$p run_install >"$tmp/out" 2>&1
	local rc=$?
	if [[ $rc -ne 0 ]] && grep -q 'missing modinfo (to read the kernel release the modules were built for; Debian package kmod); nothing was installed' "$tmp/out"; then
		ok "no modinfo: install fails naming modinfo and its package"
	else
		bad "no modinfo: exit $rc, $(head -3 "$tmp/out")"
	fi
	same_as_before "no modinfo"
}

# A directory where demo.sh goes: install fails after the binaries,
# configuration, unit and docs are in place, and undoes them.
case_rollback() {
	local obstacle=$D/usr/local/share/ainka/demo.sh
	mkdir -p "$obstacle"
	snapshot >"$tmp/before.obstacle"
	run_install >"$tmp/out" 2>&1
	local rc=$?
	check "failed install: exit non-zero and names the obstacle" \
		grep -q "$obstacle is a directory, not a file" "$tmp/out"
	check "failed install: says it rolled back" grep -q 'rolled back' "$tmp/out"
	snapshot >"$tmp/after"
	if [[ $rc -ne 0 ]] && diff -q "$tmp/before.obstacle" "$tmp/after" >/dev/null; then
		ok "failed fresh install: rolled back to the system as it was"
	else
		bad "failed fresh install: rc $rc, $(diff "$tmp/before.obstacle" "$tmp/after" | head -5 | tr '\n' ' ')"
	fi
	rm -rf "$obstacle"
	rmdir "$D/usr/local/share/ainka"

	# Over an earlier installation: what the failed run replaced comes back.
	run_install >/dev/null 2>&1 || { bad "install before the failed reinstall"; return; }
	local bin=$D/usr/local/bin/ainka-cli m=$D/usr/local/share/ainka/install-manifest
	printf '#!/bin/sh\necho earlier version\n' >"$bin"
	cp "$m" "$tmp/manifest.before"
	rm "$D/usr/local/share/ainka/demo.sh"
	mkdir "$D/usr/local/share/ainka/demo.sh"
	if run_install >"$tmp/out" 2>&1; then bad "reinstall over an obstacle succeeded"; fi
	check "failed reinstall: the replaced ainka-cli is restored" grep -q 'earlier version' "$bin"
	check "failed reinstall: the manifest is restored" cmp -s "$m" "$tmp/manifest.before"
	rmdir "$D/usr/local/share/ainka/demo.sh"
	PURGE=1 run_uninstall >/dev/null 2>&1
	same_as_before "failed reinstall, PURGE=1 uninstall"
}

# Killed at any point, an installation is still removable: the manifest
# is written before each file. Killed once the manifest has N lines.
case_killed() {
	local n pid m=$D/usr/local/share/ainka/install-manifest
	for n in 1 8 20 30; do
		(DESTDIR=$D PREFIX=/usr/local BIN=bin exec "$repo/scripts/install.sh") >/dev/null 2>&1 &
		pid=$!
		while kill -0 "$pid" 2>/dev/null && [[ $(cat "$m" 2>/dev/null | wc -l) -lt $n ]]; do sleep 0.01; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		local lines
		lines=$(cat "$m" 2>/dev/null | wc -l)
		PURGE=1 run_uninstall >"$tmp/out" 2>&1 || bad "uninstall after a kill at $n lines: $(tail -2 "$tmp/out")"
		same_as_before "install killed at $lines manifest lines, PURGE=1 uninstall"
	done
}

# A stopped daemon's socket and pid file in /run/ainka (real system only).
case_stale_run() {
	run_install >/dev/null 2>&1 || { bad "install"; return; }
	mkdir -p /run/ainka
	: >/run/ainka/ainka.sock
	echo 999999999 >/run/ainka/ainka.pid
	PURGE=1 run_uninstall >"$tmp/out" 2>&1 || bad "uninstall: $(tail -2 "$tmp/out")"
	check "uninstall: a stopped daemon's /run/ainka is removed" test ! -e /run/ainka
	same_as_before "install, stale /run/ainka, PURGE=1 uninstall"
}

case_clean_cache() {
	local cache=$tmp/vm-cache
	mkdir -p "$cache/6.1"
	: >"$cache/6.1/vmlinuz"
	make -s -C "$repo" clean-cache AINKA_VM_CACHE="$cache" >"$tmp/out" 2>&1
	check "make clean-cache removes the VM cache it names" \
		bash -c "[[ ! -e '$cache' ]] && grep -q 'removed the VM cache $cache' '$tmp/out'"
}

case_install_uninstall_purge
case_install_purge
case_missing_tool
case_rollback
case_killed
[[ $REAL == 1 ]] && case_stale_run
case_clean_cache
echo "install_test: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
