#!/usr/bin/env bash
# Install AINKA: binaries, default configuration and policies, the systemd
# unit, documentation, sample traces and, when built, the kernel modules.
#
#   make install                       # = PREFIX=/usr/local BIN=bin scripts/install.sh
#   PREFIX=/usr DESTDIR=/tmp/pkg scripts/install.sh   # staged, for packaging
#
# Environment:
#   PREFIX      install prefix (default /usr/local)
#   BIN         directory holding the built ainka and ainka-cli (default bin)
#   DESTDIR     staging root; when set, nothing on the live system is touched
#               (no daemon-reload, no depmod)
#   SYSCONFDIR  configuration root (default /etc)
#   UNITDIR     systemd unit directory (default /etc/systemd/system)
#
# An existing /etc/ainka/config.toml or policies.toml is never overwritten:
# the new default is installed beside it as *.dist. Installed files are
# listed in $PREFIX/share/ainka/install-manifest for scripts/uninstall.sh.
set -euo pipefail

PREFIX=${PREFIX:-/usr/local}
BIN=${BIN:-bin}
DESTDIR=${DESTDIR:-}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-/etc/systemd/system}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

die() { echo "install: $*" >&2; exit 1; }
say() { echo "install: $*"; }

for b in ainka ainka-cli; do
	[[ -x $BIN/$b ]] || die "$BIN/$b is missing: build first ('make build')"
done
if [[ -z $DESTDIR && $(id -u) -ne 0 ]]; then
	die "installing into $PREFIX and $SYSCONFDIR needs root (or set DESTDIR to stage the files)"
fi

manifest_rel=$PREFIX/share/ainka/install-manifest
manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT

# put MODE SRC DST: install one file and record it.
put() {
	install -D -m "$1" "$2" "$DESTDIR$3"
	echo "$3" >>"$manifest"
}

# put_config SRC DST: install a configuration file unless the operator has
# one; then the default goes beside it as DST.dist.
put_config() {
	local src=$1 dst=$2
	if [[ -e $DESTDIR$dst ]] && ! cmp -s "$src" "$DESTDIR$dst"; then
		install -D -m 0644 "$src" "$DESTDIR$dst.dist"
		echo "$dst.dist" >>"$manifest"
		say "kept your $dst; the new default is $dst.dist"
	else
		put 0644 "$src" "$dst"
	fi
}

put 0755 "$BIN/ainka" "$PREFIX/bin/ainka"
put 0755 "$BIN/ainka-cli" "$PREFIX/bin/ainka-cli"

put_config packaging/config.toml "$SYSCONFDIR/ainka/config.toml"
put_config policies/default.toml "$SYSCONFDIR/ainka/policies.toml"

# The unit names the binary by path: follow PREFIX and SYSCONFDIR.
unit=$(mktemp)
sed -e "s#/usr/local/#$PREFIX/#g" -e "s#/etc/ainka/#$SYSCONFDIR/ainka/#g" packaging/ainka.service >"$unit"
put 0644 "$unit" "$UNITDIR/ainka.service"
rm -f "$unit"

for doc in README.md docs/cli.md docs/config.md; do
	[[ -f $doc ]] && put 0644 "$doc" "$PREFIX/share/doc/ainka/$(basename "$doc")"
done
put 0755 scripts/integration_test.sh "$PREFIX/share/ainka/integration_test.sh"
put 0755 scripts/demo.sh "$PREFIX/share/ainka/demo.sh"
shopt -s nullglob
for tr in testdata/traces/*.trace; do
	put 0644 "$tr" "$PREFIX/share/ainka/traces/$(basename "$tr")"
done

# Kernel modules, when built ('make kmod'), go to the kernel they were built
# for (their vermagic), which need not be the running one.
releases=()
for ko in kmod/*.ko; do
	rel=$(modinfo -F vermagic "$ko" 2>/dev/null | awk '{print $1}')
	[[ -n $rel ]] || die "$ko: cannot read its vermagic (is modinfo installed?)"
	put 0644 "$ko" "/lib/modules/$rel/extra/ainka/$(basename "$ko")"
	releases+=("$rel")
done

# The state directory is created by systemd (StateDirectory=) and by the
# daemon; created here too so a daemon started by hand finds it.
install -d -m 0700 "$DESTDIR/var/lib/ainka"

mkdir -p "$(dirname "$DESTDIR$manifest_rel")"
echo "$manifest_rel" >>"$manifest"
# Merge with a previous installation's list, so nothing it put is forgotten.
[[ -f $DESTDIR$manifest_rel ]] && cat "$DESTDIR$manifest_rel" >>"$manifest"
sort -u "$manifest" >"$DESTDIR$manifest_rel.tmp"
mv "$DESTDIR$manifest_rel.tmp" "$DESTDIR$manifest_rel"
chmod 0644 "$DESTDIR$manifest_rel"

if [[ -z $DESTDIR ]]; then
	for rel in $(printf '%s\n' "${releases[@]}" | sort -u); do
		if [[ -d /lib/modules/$rel/kernel ]] && command -v depmod >/dev/null; then
			depmod -a "$rel"
		fi
	done
	if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
		systemctl daemon-reload
		say "enable and start the daemon with: systemctl enable --now ainka"
	else
		say "systemd is not running here: start the daemon with '$PREFIX/bin/ainka run'"
	fi
fi
say "installed $(wc -l <"$DESTDIR$manifest_rel") files under ${DESTDIR:-/} (manifest: $manifest_rel)"
say "check the installation with: $PREFIX/share/ainka/integration_test.sh"
