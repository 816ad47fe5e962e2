#!/usr/bin/env bash
# Generate the man pages and bash completions of the built binaries into
# GEN (default build/gen), where scripts/install.sh and the Debian package
# pick them up:
#
#   GEN/man/NAME.1                  from `bin/NAME man` (roff on stdout)
#   GEN/bash-completion/NAME        from `bin/NAME completion bash`
#
# A binary that has no such command yet contributes nothing; one whose
# command exists and fails is an error.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-$repo/bin}
GEN=${GEN:-$repo/build/gen}

rm -rf "$GEN"
mkdir -p "$GEN/man" "$GEN/bash-completion"
made=0
# gen_one OUT CMD...: OUT gets CMD's output when CMD exists and succeeds.
gen_one() {
	local out=$1 err
	shift
	err=$(mktemp)
	if "$@" >"$out" 2>"$err"; then
		made=$((made + 1))
	elif grep -qi 'unknown command\|unknown flag\|usage' "$err"; then
		rm -f "$out" # not supported by this binary (yet)
	else
		echo "gen: $* failed: $(head -2 "$err")" >&2
		rm -f "$out" "$err"
		exit 1
	fi
	rm -f "$err"
}
for b in "$BIN"/ainka "$BIN"/ainka-cli; do
	[[ -x $b ]] || { echo "gen: $b is missing: build first (make build)" >&2; exit 1; }
	name=${b##*/}
	gen_one "$GEN/man/$name.1" "$b" man
	gen_one "$GEN/bash-completion/$name" "$b" completion bash
done
# A man page must be roff, a completion must define a completion.
for f in "$GEN"/man/*.1; do
	[[ -e $f ]] && { head -c 4096 "$f" | grep -q '^\.TH ' || { echo "gen: $f is not a man page (no .TH)" >&2; exit 1; }; }
done
echo "gen: $made files in $GEN"
