#!/bin/sh
# check-generated.sh - fail when the committed eBPF object is stale.
#
#   scripts/check-generated.sh          check (CI)
#   scripts/check-generated.sh --stamp  record the inputs (run by go generate)
#
# Staleness is decided two ways:
#  1. bpf/ainka_bpfel.stamp holds the sha256 of every input (the C sources,
#     headers and the go:generate lines) as of the last `go generate`: any
#     edit without regenerating fails, whatever compiler CI has.
#  2. The objects (bpf/ainka_bpfel, bpf/record/record_bpfel,
#     plugins/probe/probebpf/generic_bpfel, the example probe plugin
#     examples/plugins/probes/proclife/proclife_bpfel, the TCP socket
#     iterator internal/tcpcc/tcpcc_bpfel) are regenerated
#     in a temporary copy of the tree and compared.
#     The Go bindings must match byte for byte. The .o must match byte for
#     byte only when CI's clang is the version recorded in the stamp: another
#     clang legitimately emits different (equally valid) code, so then only
#     the programs, maps and their BTF types are compared.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
stamp=$root/bpf/ainka_bpfel.stamp

inputs_hash() {
	(cd "$1" && cat bpf2go.go bpf/ainka.bpf.c bpf/tcpcc.bpf.c bpf/*.h bpf/record/record.bpf.c plugins/probe/probebpf/*.bpf.c plugins/probe/probebpf/*.h examples/plugins/probes/proclife/*.bpf.c) | sha256sum | cut -d' ' -f1
}

clang_version() {
	clang --version | sed -n '1s/.*clang version \([0-9.]*\).*/\1/p'
}

if [ "${1:-}" = "--stamp" ]; then
	printf 'inputs %s\nclang %s\n' "$(inputs_hash "$root")" "$(clang_version)" >"$stamp"
	exit 0
fi

fail() {
	echo "check-generated: $*" >&2
	echo "check-generated: run 'go generate ./...' (or make generate) and commit bpf/" >&2
	exit 1
}

[ -f "$stamp" ] || fail "missing $stamp"
want=$(sed -n 's/^inputs //p' "$stamp")
[ "$want" = "$(inputs_hash "$root")" ] || fail "bpf sources changed since the object was generated"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts"
cp -r "$root/bpf" "$tmp/bpf"
mkdir -p "$tmp/plugins/probe"
cp -r "$root/plugins/probe/probebpf" "$tmp/plugins/probe/probebpf"
mkdir -p "$tmp/examples/plugins/probes"
cp -r "$root/examples/plugins/probes/proclife" "$tmp/examples/plugins/probes/proclife"
mkdir -p "$tmp/internal/tcpcc"
cp "$root/bpf2go.go" "$root/go.mod" "$root/go.sum" "$tmp/"
cp "$root/scripts/check-generated.sh" "$tmp/scripts/"
(cd "$tmp" && go generate . ) || fail "go generate failed"

stamped_clang=$(sed -n 's/^clang //p' "$stamp")
summary() {
	llvm-objdump -h "$1" | awk 'NR>5 {print $2}' | sort
	bpftool btf dump file "$1" format raw | grep -E "^\[[0-9]+\] (STRUCT|ENUM|DATASEC|FUNC) " | sed 's/^\[[0-9]*\] //; s/type_id=[0-9]*//g' | sort
}
for obj in bpf/ainka_bpfel bpf/record/record_bpfel plugins/probe/probebpf/generic_bpfel examples/plugins/probes/proclife/proclife_bpfel internal/tcpcc/tcpcc_bpfel; do
	cmp -s "$root/$obj.go" "$tmp/$obj.go" ||
		fail "$obj.go differs from a fresh generation: $(diff "$root/$obj.go" "$tmp/$obj.go" | head -20)"
	if [ "$stamped_clang" = "$(clang_version)" ]; then
		cmp -s "$root/$obj.o" "$tmp/$obj.o" ||
			fail "$obj.o differs from a fresh build with the same clang $stamped_clang"
	else
		echo "check-generated: clang $(clang_version) here, $stamped_clang in the stamp: comparing $obj.o's sections and BTF only" >&2
		summary "$root/$obj.o" >"$tmp/want.txt"
		summary "$tmp/$obj.o" >"$tmp/got.txt"
		diff -u "$tmp/want.txt" "$tmp/got.txt" >&2 || fail "programs, maps or BTF types of $obj.o differ"
	fi
done
echo "check-generated: bpf/ainka_bpfel.{go,o}, bpf/record/record_bpfel.{go,o} plugins/probe/probebpf/generic_bpfel.{go,o} and examples/plugins/probes/proclife/proclife_bpfel.{go,o} and internal/tcpcc/tcpcc_bpfel.{go,o} are up to date"
