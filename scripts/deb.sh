#!/usr/bin/env bash
# Build the Debian packages into build/deb/:
#   ainka_VERSION_amd64.deb      daemon, CLI, unit, configuration, policies,
#                                docs, man pages and completion (make docs)
#   ainka-dkms_VERSION_all.deb   the kernel modules' source, built by DKMS
# VERSION is packaging/debian/changelog's. With --lintian, lintian checks
# both and any error or warning fails (overrides in packaging/debian/ say why).
#
#   make deb                     # = scripts/deb.sh
#   scripts/deb.sh --lintian
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "deb: $*" >&2; exit 1; }

missing=()
for t in dpkg-parsechangelog:dpkg-dev dh:debhelper dh_dkms:dh-dkms fakeroot:fakeroot; do
	command -v "${t%%:*}" >/dev/null || missing+=("${t%%:*} (Debian package ${t##*:})")
done
[[ ${1:-} != --lintian ]] || command -v lintian >/dev/null || missing+=("lintian (Debian package lintian)")
[[ ${#missing[@]} -eq 0 ]] || die "missing ${missing[*]}: run make dev-setup"

version=$(dpkg-parsechangelog -l "$repo/packaging/debian/changelog" -S Version)
out=$repo/build/deb
src=$out/ainka-$version
rm -rf "$out"
mkdir -p "$src"
cp -r "$repo/packaging/debian" "$src/debian"
# Root is not needed: fakeroot gives the files root ownership in the package.
(cd "$src" && AINKA_SRC=$repo fakeroot debian/rules binary) >"$out/build.log" 2>&1 ||
	{ tail -30 "$out/build.log" >&2; die "package build failed (log: $out/build.log)"; }
rm -rf "$src"
debs=("$out/ainka_${version}_amd64.deb" "$out/ainka-dkms_${version}_all.deb")
for d in "${debs[@]}"; do [[ -f $d ]] || die "$d was not built (log: $out/build.log)"; done
printf 'deb: %s\n' "${debs[@]}"

if [[ ${1:-} == --lintian ]]; then
	# --fail-on error,warning: a warning is a defect to fix or to override
	# with a reason, not noise.
	lintian --fail-on error,warning --info "${debs[@]}" || die "lintian found errors or warnings"
	echo "deb: lintian clean"
fi
