#!/usr/bin/env bash
# Remove what scripts/install.sh installed.
#
#   make uninstall                     # = PREFIX=/usr/local scripts/uninstall.sh
#   PURGE=1 make uninstall             # also /etc/ainka and /var/lib/ainka
#
# Environment: PREFIX, DESTDIR, SYSCONFDIR as for install.sh; PURGE=1 to
# remove the configuration and the state directory too.
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
[[ -f $manifest ]] || die "no install manifest at $manifest: nothing installed with PREFIX=$PREFIX"
if [[ -z $DESTDIR && $(id -u) -ne 0 ]]; then
	die "removing an installation needs root"
fi

if [[ -z $DESTDIR && -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
	if systemctl is-active --quiet ainka; then
		say "stopping ainka (it restores the knobs it changed)"
		systemctl stop ainka
	fi
	systemctl disable --quiet ainka 2>/dev/null || true
fi
if [[ -z $DESTDIR ]]; then
	# A daemon started by hand: ask it to stop the same way.
	pidfile=/run/ainka/ainka.pid
	if [[ -f $pidfile ]] && pid=$(cat "$pidfile") && kill -0 "$pid" 2>/dev/null; then
		say "stopping ainka (pid $pid)"
		kill -TERM "$pid"
		for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
		kill -0 "$pid" 2>/dev/null && die "ainka (pid $pid) did not stop within 30s; not removing it"
	fi
fi

removed=0
releases=()
while IFS= read -r f; do
	[[ -n $f ]] || continue
	case $f in
	"$SYSCONFDIR"/ainka/config.toml | "$SYSCONFDIR"/ainka/policies.toml)
		# Configuration stays unless purging: it may hold the operator's edits.
		[[ $PURGE == 1 ]] || continue ;;
	/lib/modules/*)
		rel=${f#/lib/modules/}; releases+=("${rel%%/*}") ;;
	esac
	if [[ -e $DESTDIR$f || -L $DESTDIR$f ]]; then
		rm -f "$DESTDIR$f"
		removed=$((removed + 1))
	fi
done <"$manifest"

# Empty directories we created.
for d in "$PREFIX/share/ainka/traces" "$PREFIX/share/ainka" "$PREFIX/share/doc/ainka"; do
	rmdir "$DESTDIR$d" 2>/dev/null || true
done
for rel in "${releases[@]}"; do
	rmdir "$DESTDIR/lib/modules/$rel/extra/ainka" 2>/dev/null || true
done

if [[ $PURGE == 1 ]]; then
	rm -rf "$DESTDIR$SYSCONFDIR/ainka" "$DESTDIR/var/lib/ainka"
	say "purged $SYSCONFDIR/ainka and /var/lib/ainka"
else
	say "kept $SYSCONFDIR/ainka and /var/lib/ainka (PURGE=1 removes them)"
fi
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
