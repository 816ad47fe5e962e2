#!/usr/bin/env bash
# Install AINKA: binaries, default configuration and policies, the systemd
# unit, documentation, man pages and bash completion (when generated), sample
# traces and, when built, the kernel modules.
#
#   make install                       # = PREFIX=/usr/local BIN=bin scripts/install.sh
#   PREFIX=/usr DESTDIR=/tmp/pkg scripts/install.sh   # staged, for packaging
#
# Environment:
#   PREFIX      install prefix (default /usr/local)
#   BIN         directory holding the built ainka and ainka-cli (default bin)
#   GEN         directory of the generated man pages (man/*.[1-8]) and
#               shell completions (completion/NAME.bash, completion/_NAME
#               for zsh), written by `make docs` (default: BIN); absent
#               files are skipped
#   DESTDIR     staging root; when set, nothing on the live system is touched
#               (no daemon-reload, no depmod)
#   SYSCONFDIR  configuration root (default /etc)
#   UNITDIR     systemd unit directory (default /etc/systemd/system)
#   MODULES     0: do not install kmod/*.ko even when built (the Debian
#               package ships them as DKMS source instead)
#   MANIFEST    0: write no manifest (a package manager tracks the files)
#
# Safety: every tool is checked before anything is written, and each step
# records its path in the manifest ($PREFIX/share/ainka/install-manifest)
# before it writes, so even an install killed half-way can be uninstalled.
# A failed install rolls itself back: files it added are removed, files it
# replaced are restored, directories it created are removed.
# An existing /etc/ainka/config.toml or policies.toml is never overwritten:
# the new default is installed beside it as *.dist.
set -euo pipefail

PREFIX=${PREFIX:-/usr/local}
BIN=${BIN:-bin}
GEN=${GEN:-$BIN}
DESTDIR=${DESTDIR:-}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-/etc/systemd/system}
MODULES=${MODULES:-1}
MANIFEST=${MANIFEST:-1}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

die() { echo "install: $*" >&2; exit 1; }
say() { echo "install: $*"; }

# --- checks: nothing is written until they all pass ----------------------
missing=()
# need TOOL WHAT-FOR PACKAGE
need() { command -v "$1" >/dev/null || missing+=("$1 (to $2; Debian package $3)"); }
for t in install mktemp sort cp rm rmdir; do need "$t" "install files" coreutils; done
need sed "fit the unit to PREFIX" sed
need cmp "compare configuration files" diffutils

for b in ainka ainka-cli; do
	[[ -x $BIN/$b ]] || die "$BIN/$b is missing: build first ('make build')"
done
if [[ -z $DESTDIR && $(id -u) -ne 0 ]]; then
	die "installing into $PREFIX and $SYSCONFDIR needs root (or set DESTDIR to stage the files)"
fi

shopt -s nullglob
kos=()
[[ $MODULES == 0 ]] || kos=(kmod/*.ko)
if [[ ${#kos[@]} -gt 0 ]]; then
	need modinfo "read the kernel release the modules were built for" kmod
fi
[[ ${#missing[@]} -eq 0 ]] || die "missing $(printf '%s, ' "${missing[@]}" | sed 's/, $//'); nothing was installed"

# Kernel modules, when built ('make kmod'), go to the kernel they were built
# for (their vermagic), which need not be the running one.
declare -A module_rel=()
releases=()
for ko in "${kos[@]}"; do
	rel=$(modinfo -F vermagic "$ko") || die "$ko: modinfo cannot read it"
	rel=${rel%% *}
	[[ -n $rel ]] || die "$ko: has no vermagic"
	module_rel[$ko]=$rel
	releases+=("$rel")
done
depmod_rels=()
if [[ -z $DESTDIR && ${#releases[@]} -gt 0 ]]; then
	for rel in $(printf '%s\n' "${releases[@]}" | sort -u); do
		# Only a kernel whose modules are installed here has a modules.dep
		# to update (the VM's kernel on a build host has none).
		[[ -d /lib/modules/$rel/kernel ]] && depmod_rels+=("$rel")
	done
	if [[ ${#depmod_rels[@]} -gt 0 ]] && ! command -v depmod >/dev/null; then
		die "missing depmod (to index the modules for modprobe; Debian package kmod); nothing was installed"
	fi
fi

# --- the journal: what this run changed, to undo it on failure -----------
work=$(mktemp -d)
journal=$work/journal
: >"$journal"
committed=0
manifest_rel=$PREFIX/share/ainka/install-manifest
manifest=$DESTDIR$manifest_rel

# rollback undoes the journal, newest first. A step that cannot be undone
# is named with the command that undoes it by hand, and the backups are
# kept for it (the work directory is not removed).
rollback() {
	local op path n=0 failed=0
	say "failed: rolling back what this run changed"
	while read -r op path; do
		case $op in
		new) rm -f "$DESTDIR$path" || { say "could not remove $DESTDIR$path: remove it by hand (rm -f $DESTDIR$path)"; failed=1; } ;;
		old) cp -p "$work/backup$path" "$DESTDIR$path" || { say "could not put back $DESTDIR$path: cp -p $work/backup$path $DESTDIR$path"; failed=1; } ;;
		dir) rmdir "$DESTDIR$path" 2>/dev/null || true ;;
		esac
		n=$((n + 1))
	done < <(tac "$journal")
	for rel in "${depmod_rels[@]}"; do depmod -a "$rel" || true; done
	if [[ $failed == 1 ]]; then
		keep_work=1
		say "rolled back $n steps, some by hand as said above (backups kept in $work); then fix the cause of the failure and run 'make install' again"
		return
	fi
	say "rolled back $n steps; the system is as it was before: fix the cause above and run 'make install' again"
}
keep_work=0
finish() {
	local rc=$?
	[[ $committed == 1 || ! -s $journal ]] || rollback
	[[ $keep_work == 1 ]] || rm -rf "$work"
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# record PATH: list PATH in the manifest before anything is written there.
record() {
	[[ $MANIFEST == 0 ]] || echo "$1" >>"$manifest"
}

# mkdirs DIR: create DIR and its missing parents, each recorded (with a
# trailing slash) and journaled first, so uninstall and rollback remove
# exactly the directories this installation made.
mkdirs() {
	local d=$1 todo=()
	# A staging root is made, not recorded: it is the caller's.
	[[ -z $DESTDIR || -d $DESTDIR ]] || install -d "$DESTDIR"
	while [[ $d != / && ! -d $DESTDIR$d ]]; do
		todo=("$d" "${todo[@]}")
		d=$(dirname "$d")
	done
	for d in "${todo[@]}"; do
		echo "dir $d" >>"$journal"
		record "$d/"
		install -d -m 0755 "$DESTDIR$d"
	done
}

# journal_file DST: journal DST as new, or back up the file it replaces.
journal_file() {
	local dst=$1
	[[ ! -d $DESTDIR$dst ]] || die "$DESTDIR$dst is a directory, not a file: move it away and install again"
	if [[ -e $DESTDIR$dst ]]; then
		install -D -m 0600 "$DESTDIR$dst" "$work/backup$dst"
		echo "old $dst" >>"$journal"
	else
		echo "new $dst" >>"$journal"
	fi
}

# The manifest first: an installation interrupted at any later step is
# still listed, so uninstall can remove it.
start_manifest() {
	[[ $MANIFEST == 0 ]] && return
	MANIFEST=0 mkdirs "$(dirname "$manifest_rel")"
	journal_file "$manifest_rel"
	record "$manifest_rel"
	# The directories just made for it, now that it can list them.
	awk '$1 == "dir" { print $2 "/" }' "$journal" >>"$manifest"
}

# put MODE SRC DST: install one file, recorded and journaled first.
put() {
	local mode=$1 src=$2 dst=$3
	mkdirs "$(dirname "$dst")"
	record "$dst"
	journal_file "$dst"
	install -T -m "$mode" "$src" "$DESTDIR$dst"
}

# put_config SRC DST: install a configuration file unless the operator has
# one; then the default goes beside it as DST.dist.
put_config() {
	local src=$1 dst=$2
	if [[ -e $DESTDIR$dst ]] && ! cmp -s "$src" "$DESTDIR$dst"; then
		put 0644 "$src" "$dst.dist"
		say "kept your $dst; the new default is $dst.dist"
	else
		put 0644 "$src" "$dst"
	fi
}

# Debian's zsh reads packages' completions from vendor-completions and
# local ones from site-functions.
zshdir=site-functions
[[ $PREFIX != /usr ]] || zshdir=vendor-completions

install_files() {
	put 0755 "$BIN/ainka" "$PREFIX/bin/ainka"
	put 0755 "$BIN/ainka-cli" "$PREFIX/bin/ainka-cli"

	put_config packaging/config.toml "$SYSCONFDIR/ainka/config.toml"
	put_config policies/default.toml "$SYSCONFDIR/ainka/policies.toml"

	# The unit names the binary by path: follow PREFIX and SYSCONFDIR.
	sed -e "s#/usr/local/#$PREFIX/#g" -e "s#/etc/ainka/#$SYSCONFDIR/ainka/#g" packaging/ainka.service >"$work/ainka.service"
	put 0644 "$work/ainka.service" "$UNITDIR/ainka.service"

	local f
	for f in README.md docs/cli.md docs/config.md; do
		[[ -f $f ]] && put 0644 "$f" "$PREFIX/share/doc/ainka/$(basename "$f")"
	done
	for f in "$GEN"/man/*.[1-8]; do
		put 0644 "$f" "$PREFIX/share/man/man${f##*.}/$(basename "$f")"
	done
	for f in "$GEN"/completion/*.bash; do
		put 0644 "$f" "$PREFIX/share/bash-completion/completions/$(basename "$f" .bash)"
	done
	for f in "$GEN"/completion/_*; do
		put 0644 "$f" "$PREFIX/share/zsh/$zshdir/$(basename "$f")"
	done
	put 0755 scripts/integration_test.sh "$PREFIX/share/ainka/integration_test.sh"
	put 0755 scripts/demo.sh "$PREFIX/share/ainka/demo.sh"
	for f in testdata/traces/*.trace; do
		put 0644 "$f" "$PREFIX/share/ainka/traces/$(basename "$f")"
	done
	for f in "${kos[@]}"; do
		put 0644 "$f" "/lib/modules/${module_rel[$f]}/extra/ainka/$(basename "$f")"
	done
}

# The state directory (actuation journal, model) is created by systemd
# (StateDirectory=) and by the daemon; made here too so a daemon started by
# hand finds it. It is state, not an installed file: only PURGE removes it.
make_state_dir() {
	[[ -d $DESTDIR/var/lib/ainka ]] && return
	mkdirs /var/lib
	echo "dir /var/lib/ainka" >>"$journal"
	install -d -m 0700 "$DESTDIR/var/lib/ainka"
}

start_manifest
install_files
make_state_dir
for rel in "${depmod_rels[@]}"; do
	depmod -a "$rel"
done
if [[ $MANIFEST != 0 ]]; then
	# One line per path, even after several installations.
	sort -u "$manifest" >"$work/manifest"
	install -T -m 0644 "$work/manifest" "$manifest"
fi
committed=1

if [[ -z $DESTDIR ]]; then
	if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
		systemctl daemon-reload
		say "enable and start the daemon with: systemctl enable --now ainka"
	else
		say "systemd is not running here: start the daemon with '$PREFIX/bin/ainka run'"
	fi
fi
if [[ $MANIFEST != 0 ]]; then
	say "installed $(grep -vc '/$' "$manifest") files under ${DESTDIR:-/} (manifest: $manifest_rel)"
	say "check the installation with: $PREFIX/share/ainka/integration_test.sh"
fi
