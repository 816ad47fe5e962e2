#!/usr/bin/env bash
# A tour of AINKA: starts a daemon that replays a recorded trace (no root,
# no changes to this host: dry_run is on and everything lives in a
# temporary directory), then drives it with ainka-cli.
#
#   demo.sh [-i] [TRACE]
#
#   -i     interactive: pause before each step (Enter continues, q quits)
#   TRACE  the trace to replay (default: the first of testdata/traces, or of
#          the installed $PREFIX/share/ainka/traces)
#
# The binaries are taken from $AINKA_BIN_DIR when set, else ./bin (after
# 'make build'), else $PREFIX/bin (default /usr/local), else PATH.
# DEMO_WARMUP (seconds, default 2) is how long the replay runs before the
# first step.
set -euo pipefail

INTERACTIVE=0
TRACE=
while [[ $# -gt 0 ]]; do
	case $1 in
	-i | --interactive) INTERACTIVE=1; shift ;;
	-h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	-*) echo "demo.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
	*) TRACE=$1; shift ;;
	esac
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=${PREFIX:-/usr/local}
find_bin() {
	local b
	for b in ${AINKA_BIN_DIR:+"$AINKA_BIN_DIR/$1"} "$repo/bin/$1" "$PREFIX/bin/$1"; do
		[[ -x $b ]] && { echo "$b"; return; }
	done
	command -v "$1" || { echo "demo.sh: $1 not found: run 'make build' first" >&2; exit 1; }
}
AINKA=$(find_bin ainka)
CLI=$(find_bin ainka-cli)
if [[ -z $TRACE ]]; then
	for t in "$repo"/testdata/traces/*.trace "$PREFIX"/share/ainka/traces/*.trace; do
		[[ -f $t ]] && TRACE=$t && break
	done
fi
[[ -n $TRACE && -f $TRACE ]] || { echo "demo.sh: no trace to replay: give one (demo.sh [-i] TRACE)" >&2; exit 1; }

bold= dim= reset=
if [[ -t 1 ]]; then
	bold=$(tput bold 2>/dev/null || true)
	dim=$(tput dim 2>/dev/null || true)
	reset=$(tput sgr0 2>/dev/null || true)
fi

tmp=$(mktemp -d /tmp/ainka-demo.XXXXXX)
daemon_pid=
cleanup() {
	if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -TERM "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

say() { printf '\n%s== %s%s\n' "$bold" "$*" "$reset"; }
pause() {
	[[ $INTERACTIVE == 1 ]] || return 0
	local answer
	read -r -p "${dim}[Enter] next step, [q] quit: ${reset}" answer || exit 0
	[[ $answer == q ]] && exit 0
	return 0
}
# step TEXT ARGS...: explain, show the command, pause, run it.
step() {
	say "$1"
	shift
	local shown= a
	for a in "$@"; do
		[[ $a =~ [[:space:]\<\>\|\&\;\$] ]] && a="\"$a\""
		shown+=" $a"
	done
	printf '%s$ ainka-cli%s%s\n' "$dim" "$shown" "$reset"
	pause
	"$CLI" --socket "$tmp/ainka.sock" "$@" || printf '%s(exit %d)%s\n' "$dim" "$?" "$reset"
}

cat >"$tmp/config.toml" <<EOT
[daemon]
pid_file = "$tmp/ainka.pid"
work_dir = "$tmp/state"
socket_path = "$tmp/ainka.sock"
dry_run = true

[policy]
policy_file = "$repo/policies/default.toml"
EOT

say "Starting the daemon: a replay of $(basename "$TRACE") at its original pace, dry-run"
printf '%s$ ainka replay %s --config %s --speed 1 --repeat 100%s\n' "$dim" "$TRACE" "$tmp/config.toml" "$reset"
pause
"$AINKA" replay "$TRACE" --config "$tmp/config.toml" --speed 1 --repeat 100 >"$tmp/daemon.out" 2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 150); do
	[[ -S $tmp/ainka.sock ]] && break
	kill -0 "$daemon_pid" 2>/dev/null || { echo "the daemon exited:"; tail -5 "$tmp/daemon.log"; exit 1; }
	sleep 0.1
done
[[ -S $tmp/ainka.sock ]] || { echo "the daemon did not open its socket within 15s"; tail -5 "$tmp/daemon.log"; exit 1; }
sleep "${DEMO_WARMUP:-2}" # let a few windows through, so there is something to see

step "What is the daemon doing? State, stage rates and drops, ring buffer losses" status
step "The same in the design's flag form, as JSON for scripts" --status --json
step "Metrics: a readable summary (--raw gives the Prometheus text)" metrics
step "The daemon's recent structured log" logs --since 1m
step "The policies it runs (from the policy file)" policy list
step "Add a policy at run time" policy add demo_busy --condition "cpu_busy_pct > 50" --action notify --priority 5
step "It is in the list" --list-policies
step "Evaluate now: what would each policy do? (dry-run: nothing changes)" optimize
step "Emergency mode: only emergency policies run, faster" emergency-mode on
step "The status shows it" status
step "Back to normal" --emergency-mode off
step "Remove the demo policy" --remove-policy demo_busy
step "What would a rollback restore? (--print changes nothing)" rollback --print

say "Stopping the daemon (SIGTERM: it drains the pipeline and restores what it changed)"
pause
kill -TERM "$daemon_pid"
wait "$daemon_pid" && echo "stopped cleanly" || echo "the daemon exited with status $?"
daemon_pid=
