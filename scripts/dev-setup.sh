#!/usr/bin/env bash
# Install every Debian package the build and the tests need
# (scripts/dev-packages.txt) and check the Go toolchain.
#
#   make dev-setup            # = scripts/dev-setup.sh
#   scripts/dev-setup.sh -n   # only list what is missing; exit 1 if anything is
#
# Cheap when nothing is missing (one dpkg-query, no apt-get), so `make test`
# runs it every time. Installing needs root.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
list=$repo/scripts/dev-packages.txt
check_only=0
[[ ${1:-} == -n ]] && check_only=1

say() { echo "dev-setup: $*"; }
die() { echo "dev-setup: $*" >&2; exit 1; }

# Go: the version go.mod names, or newer. Debian 12's golang-go (1.19) is too
# old, so it is not installed from apt; the machine brings Go.
PATH=$PATH:/usr/local/go/bin
want=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$repo/go.mod")
command -v go >/dev/null || die "go is not installed (need Go $want or newer in PATH or /usr/local/go/bin)"
have=$(go env GOVERSION | sed 's/^go//')
if [[ $(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1) != "$want" ]]; then
	die "go $have is older than go.mod's $want"
fi

mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$list")
[[ ${#pkgs[@]} -gt 0 ]] || die "no packages in $list"
command -v dpkg-query >/dev/null || die "dpkg-query not found: this script is for Debian"
# dpkg-query exits 1 when a package is unknown; that is "missing", not an error.
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${pkgs[@]}" 2>/dev/null | awk '$1 == "ii" { print $2 }' || true)
missing=()
for p in "${pkgs[@]}"; do
	grep -qx -- "$p" <<<"$installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
	say "go $have and all ${#pkgs[@]} packages of scripts/dev-packages.txt are installed"
	exit 0
fi
if [[ $check_only == 1 ]]; then
	say "missing: ${missing[*]}"
	exit 1
fi
[[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}; installing them needs root (sudo make dev-setup)"
say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update once, then install.
apt-get update -qq || die "apt-get update failed"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
	die "apt-get install ${missing[*]} failed"
say "installed ${#missing[@]} packages"
