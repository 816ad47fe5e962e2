#!/usr/bin/env bash
# Install the Debian packages built by `make deb` on this system (root),
# check what they put in place, run the installed-system check
# (integration_test.sh), purge them, and check that nothing is left.
#
#   scripts/deb_test.sh [DIR]     DIR holds the .debs (default build/deb)
#
# Refuses to run when ainka is already installed as a package or by
# `make install`. CI runs it after scripts/deb.sh --lintian.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Absolute: apt-get takes a path to a .deb only when it starts with / or ./
dir=$(cd "${1:-$repo/build/deb}" && pwd) || { echo "deb_test: no directory ${1:-$repo/build/deb} (make deb)" >&2; exit 1; }
pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'PASS  %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL  %s\n' "$*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
die() { echo "deb_test: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (it installs the packages)"
shopt -s nullglob
main=("$dir"/ainka_*_amd64.deb)
dkms=("$dir"/ainka-dkms_*_all.deb)
[[ ${#main[@]} -eq 1 && ${#dkms[@]} -eq 1 ]] || die "want one ainka_*_amd64.deb and one ainka-dkms_*_all.deb in $dir (make deb)"
installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^.[ic]'; }
for p in ainka ainka-dkms; do installed "$p" && die "$p is already installed: apt purge it first"; done
[[ ! -e /usr/local/share/ainka/install-manifest ]] || die "AINKA is installed by make install: make uninstall first"
version=$(dpkg-deb -f "${main[0]}" Version)
tmp=$(mktemp -d)
. "$repo/scripts/lib/state_aside.sh"
state_aside "$tmp"
trap 'state_back "$tmp"; rm -rf "$tmp"' EXIT

# Everything a package could leave behind. Not depmod's index files
# (/lib/modules/*/modules.*): DKMS regenerates them for the kernel it built
# for, and they belong to that kernel (a host that runs it has them anyway).
snapshot() {
	local p
	for p in /usr/bin /usr/share/ainka /usr/share/doc/ainka /usr/share/man/man1 /usr/share/bash-completion /usr/share/zsh /etc/ainka /var/lib/ainka /run/ainka \
		/lib/systemd/system /etc/systemd/system /usr/src /var/lib/dkms /lib/modules; do
		[[ -e $p ]] && find "$p" -printf '%y %p\n'
	done | grep -v '^f /lib/modules/[^/]*/modules\.' | sort
}
snapshot >"$tmp/before"

export DEBIAN_FRONTEND=noninteractive
if apt-get install -y -q --no-install-recommends "${main[0]}" "${dkms[0]}" >"$tmp/apt.log" 2>&1; then
	ok "apt-get install ainka ainka-dkms $version"
else
	bad "apt-get install: $(tail -5 "$tmp/apt.log")"
	echo "deb_test: $pass passed, $fail failed"
	exit 1
fi

check "ainka installs /usr/bin/ainka and ainka-cli" test -x /usr/bin/ainka -a -x /usr/bin/ainka-cli
check "the unit is in /lib/systemd/system and runs /usr/bin/ainka" \
	grep -q '^ExecStart=/usr/bin/ainka run --config /etc/ainka/config.toml' /lib/systemd/system/ainka.service
check "the unit is not enabled at installation" test ! -e /etc/systemd/system/multi-user.target.wants/ainka.service
dpkg-query -W -f='${Conffiles}\n' ainka >"$tmp/conffiles"
check "/etc/ainka/config.toml and policies.toml are conffiles" \
	bash -c "grep -q ' /etc/ainka/config.toml ' '$tmp/conffiles' && grep -q ' /etc/ainka/policies.toml ' '$tmp/conffiles'"
check "traces for the replay check are in /usr/share/ainka/traces" bash -c 'ls /usr/share/ainka/traces/*.trace >/dev/null'
check "copyright and changelog in /usr/share/doc/ainka" \
	test -f /usr/share/doc/ainka/copyright -a -f /usr/share/doc/ainka/changelog.gz
check "man pages ainka(1) and ainka-cli(1)" test -f /usr/share/man/man1/ainka.1.gz -a -f /usr/share/man/man1/ainka-cli.1.gz
check "bash and zsh completion of ainka-cli" \
	test -f /usr/share/bash-completion/completions/ainka-cli -a -f /usr/share/zsh/vendor-completions/_ainka-cli
check "no install manifest in the package (dpkg tracks the files)" test ! -e /usr/share/ainka/install-manifest

# DKMS built the modules for every kernel here whose headers are installed.
check "the module source is in /usr/src/ainka-$version" test -f "/usr/src/ainka-$version/dkms.conf"
for hdr in /usr/src/linux-headers-*-amd64; do
	rel=${hdr##*/linux-headers-}
	ko=/lib/modules/$rel/updates/dkms/ainka_core.ko
	if dkms status -m ainka -v "$version" -k "$rel" | grep -q ': installed'; then
		ok "dkms built and installed ainka $version for $rel"
	else
		bad "dkms status for $rel: $(dkms status -m ainka -k "$rel" 2>&1 | head -2)"
	fi
	check "$ko has vermagic $rel" bash -c "modinfo -F vermagic '$ko' | grep -q '^$rel '"
	check "ainka_enhanced.ko depends on ainka_core" bash -c "modinfo -F depends '/lib/modules/$rel/updates/dkms/ainka_enhanced.ko' | grep -qw ainka_core"
done

if /usr/share/ainka/integration_test.sh --prefix /usr >"$tmp/it.log" 2>&1; then
	ok "integration_test.sh on the installed package ($(tail -1 "$tmp/it.log"))"
else
	cat "$tmp/it.log"
	bad "integration_test.sh on the installed package"
fi

if apt-get purge -y -q ainka ainka-dkms >"$tmp/apt.log" 2>&1; then
	ok "apt-get purge ainka ainka-dkms"
else
	bad "apt-get purge: $(tail -5 "$tmp/apt.log")"
fi
snapshot >"$tmp/after"
if diff "$tmp/before" "$tmp/after" >"$tmp/diff"; then
	ok "purged: nothing left behind"
else
	bad "purged, but left behind: $(head -8 "$tmp/diff" | tr '\n' ' ')"
fi
echo "deb_test: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
