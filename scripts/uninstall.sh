#!/usr/bin/env bash
# Remove what scripts/install.sh installed.
#
#   make uninstall                     # = PREFIX=/usr/local scripts/uninstall.sh
#   PURGE=1 make uninstall             # also /etc/ainka and /var/lib/ainka
#
# Environment: PREFIX, DESTDIR, SYSCONFDIR as for install.sh; PURGE=1 to
# remove the configuration and the state directory too. PURGE=1 also works
# after a plain uninstall, when no manifest is left.
#
# The running daemon is stopped first: on stop it restores every kernel
# knob it changed, from the journal in /var/lib/ainka, which is why that
# directory is kept (without PURGE) until the daemon has exited.
set -euo pipefail

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
SYSCONFDIR=${SYSCONFDIR:-/etc}
PURGE=${PURGE:-0}

die() { echo "uninstall: $*" >&2; exit 1; }
say() { echo "uninstall: $*"; }

manifest=$DESTDIR$PREFIX/share/ainka/install-manifest
if [[ -z $DESTDIR && $(id -u) -ne 0 ]]; then
	die "removing an installation needs root"
fi

# stop_daemon: ask a running daemon to stop, so it restores its knobs.
stop_daemon() {
	[[ -z $DESTDIR ]] || return 0
	if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
		if systemctl is-active --quiet ainka; then
			say "stopping ainka (it restores the knobs it changed)"
			systemctl stop ainka
		fi
		systemctl disable --quiet ainka 2>/dev/null || true
	fi
	# A daemon started by hand: ask it to stop the same way.
	local pidfile=/run/ainka/ainka.pid pid
	if [[ -f $pidfile ]] && pid=$(cat "$pidfile") && kill -0 "$pid" 2>/dev/null; then
		say "stopping ainka (pid $pid)"
		kill -TERM "$pid"
		for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
		kill -0 "$pid" 2>/dev/null && die "ainka (pid $pid) did not stop within 30s; not removing it"
	fi
	# What a stopped daemon leaves in its runtime directory is stale.
	if [[ -d /run/ainka ]]; then
		rm -f /run/ainka/ainka.sock /run/ainka/ainka.pid
		rmdir /run/ainka 2>/dev/null || say "kept /run/ainka: it holds $(ls -A /run/ainka | head -3 | tr '\n' ' ')"
	fi
}

# remove_files: every file of the manifest, but the configuration unless
# purging; collects the kernel releases whose modules it removed.
removed=0
releases=()
remove_files() {
	local f rel
	while IFS= read -r f; do
		case $f in
		'' | */) continue ;;
		"$SYSCONFDIR"/ainka/config.toml | "$SYSCONFDIR"/ainka/policies.toml | "$SYSCONFDIR"/ainka/*.dist)
			# Configuration stays unless purging: it may hold the operator's edits.
			[[ $PURGE == 1 ]] || continue ;;
		/lib/modules/*)
			rel=${f#/lib/modules/}
			releases+=("${rel%%/*}") ;;
		esac
		if [[ -e $DESTDIR$f || -L $DESTDIR$f ]]; then
			rm -f "$DESTDIR$f"
			removed=$((removed + 1))
		fi
	done <<<"$entries"
}

# remove_dirs: the directories the installation created (listed with a
# trailing slash), deepest first, each only when empty. Manifests of older
# installations list no directories: then the ones they always made.
remove_dirs() {
	local dirs d rel
	dirs=$(grep '/$' <<<"$entries" || true)
	if [[ -z $dirs ]]; then
		dirs=$(printf '%s/\n' "$PREFIX/share/ainka/traces" "$PREFIX/share/ainka" "$PREFIX/share/doc/ainka")
		for rel in "${releases[@]}"; do
			dirs+=$'\n'"/lib/modules/$rel/extra/ainka/"$'\n'"/lib/modules/$rel/extra/"
		done
	fi
	while IFS= read -r d; do
		[[ -n $d ]] && rmdir "$DESTDIR${d%/}" 2>/dev/null || true
	done < <(awk '{ print gsub("/", "/"), $0 }' <<<"$dirs" | sort -rn | cut -d' ' -f2-)
}

purge() {
	if command -v dpkg-query >/dev/null && [[ -z $DESTDIR ]] &&
		dpkg-query -W -f='${db:Status-Abbrev}' ainka 2>/dev/null | grep -q '^ii'; then
		die "the Debian package ainka is installed and owns $SYSCONFDIR/ainka: use 'apt purge ainka'"
	fi
	rm -rf "$DESTDIR$SYSCONFDIR/ainka" "$DESTDIR/var/lib/ainka"
	say "purged $SYSCONFDIR/ainka and /var/lib/ainka"
}

stop_daemon
if [[ ! -f $manifest ]]; then
	# After a plain uninstall only the configuration and state are left.
	[[ $PURGE == 1 ]] || die "no install manifest at $manifest: nothing installed with PREFIX=$PREFIX"
	say "no install manifest at $manifest: nothing else is installed"
	purge
	# An install killed before its first file leaves at most this, empty.
	rmdir "$DESTDIR$PREFIX/share/ainka" 2>/dev/null || true
	exit 0
fi
entries=$(cat "$manifest")
remove_files
if [[ $PURGE == 1 ]]; then
	purge
else
	say "kept $SYSCONFDIR/ainka and /var/lib/ainka (PURGE=1 removes them)"
fi
remove_dirs
if [[ -z $DESTDIR ]]; then
	for rel in $(printf '%s\n' "${releases[@]}" | sort -u); do
		if [[ -d /lib/modules/$rel/kernel ]] && command -v depmod >/dev/null; then
			depmod -a "$rel"
		fi
	done
	if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
		systemctl daemon-reload
	fi
fi
say "removed $removed files"
