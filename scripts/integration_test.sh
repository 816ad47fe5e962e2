#!/usr/bin/env bash
# A full check of an installed AINKA: the binaries, the configuration, the
# systemd unit, a daemon started and driven through ainka-cli, and a clean
# stop. It never touches the installed daemon or the host's knobs: the
# daemon it starts has its own socket, pid file and state directory under a
# temporary directory, and runs with dry_run = true.
#
#   integration_test.sh [--prefix DIR] [--config FILE] [--trace FILE | --live]
#
#   --prefix DIR   where AINKA is installed (default /usr/local; the
#                  binaries are looked up in DIR/bin, then on PATH)
#   --config FILE  the configuration to validate (default /etc/ainka/config.toml)
#   --trace FILE   start the daemon as a replay of FILE (default: the first
#                  trace in DIR/share/ainka/traces, else testdata/traces)
#   --live         start the daemon live (root) instead of a replay
#   --unit FILE    the systemd unit to verify (default: ainka.service in
#                  /etc/systemd/system, /lib/systemd/system, /usr/lib/systemd/system)
#
# Prints one line per check and a summary; exits 1 if any check failed.
set -uo pipefail

PREFIX=/usr/local
CONFIG=/etc/ainka/config.toml
TRACE=
LIVE=0
UNIT=
while [[ $# -gt 0 ]]; do
	case $1 in
	--prefix) PREFIX=$2; shift 2 ;;
	--config) CONFIG=$2; shift 2 ;;
	--trace) TRACE=$2; shift 2 ;;
	--live) LIVE=1; shift ;;
	--unit) UNIT=$2; shift 2 ;;
	-h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	*) echo "integration_test.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done

pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'PASS  %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL  %s\n' "$*"; }
tmp=$(mktemp -d /tmp/ainka-it.XXXXXX)
chmod 0755 "$tmp"
daemon_pid=
cleanup() {
	if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -TERM "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# 1. Binaries.
find_bin() {
	if [[ -x $PREFIX/bin/$1 ]]; then echo "$PREFIX/bin/$1"; else command -v "$1"; fi
}
AINKA=$(find_bin ainka) && ok "ainka binary: $AINKA" || bad "ainka binary: not in $PREFIX/bin nor on PATH"
CLI=$(find_bin ainka-cli) && ok "ainka-cli binary: $CLI" || bad "ainka-cli binary: not in $PREFIX/bin nor on PATH"
if [[ -z ${AINKA:-} || -z ${CLI:-} ]]; then
	echo "summary: $pass passed, $fail failed (binaries missing: nothing else can be checked)"
	exit 1
fi
if "$CLI" --help >"$tmp/out" 2>&1 && grep -q "exit codes" "$tmp/out"; then
	ok "ainka-cli --help"
else
	bad "ainka-cli --help: $(head -3 "$tmp/out")"
fi

# 2. Configuration: the installed file validates and prints; a bad one is
# refused with the key and line.
if [[ -f $CONFIG ]]; then
	if "$AINKA" run --config "$CONFIG" --dry-run >"$tmp/out" 2>"$tmp/err" && grep -q '^\[daemon\]' "$tmp/out"; then
		ok "config $CONFIG validates (ainka run --config --dry-run)"
	else
		bad "config $CONFIG: $(head -3 "$tmp/err")"
	fi
else
	if "$AINKA" run --dry-run >"$tmp/out" 2>"$tmp/err" && grep -q '^\[daemon\]' "$tmp/out"; then
		ok "no $CONFIG: the built-in defaults validate"
	else
		bad "built-in defaults: $(head -3 "$tmp/err")"
	fi
fi
printf '[daemon]\nmax_memory_mb = -1\n' >"$tmp/bad.toml"
"$AINKA" run --config "$tmp/bad.toml" --dry-run >/dev/null 2>"$tmp/err"
rc=$?
if [[ $rc -eq 2 ]] && grep -q "bad.toml:2: daemon.max_memory_mb" "$tmp/err"; then
	ok "a bad config is refused (exit 2, names key and line)"
else
	bad "bad config: exit $rc, stderr: $(head -2 "$tmp/err")"
fi

# 3. The systemd unit.
unit=$UNIT
[[ -n $unit ]] || for u in /etc/systemd/system/ainka.service /lib/systemd/system/ainka.service /usr/lib/systemd/system/ainka.service; do
	[[ -f $u ]] && unit=$u && break
done
if [[ -z $unit ]]; then
	bad "systemd unit: ainka.service not installed"
elif command -v systemd-analyze >/dev/null; then
	if systemd-analyze verify "$unit" >"$tmp/err" 2>&1; then
		ok "systemd unit $unit verifies"
	else
		bad "systemd unit $unit: $(head -3 "$tmp/err")"
	fi
else
	ok "systemd unit $unit present (no systemd-analyze to verify it)"
fi

# 4. The CLI without a daemon: exit 3 and the hint.
"$CLI" --socket "$tmp/none.sock" status >/dev/null 2>"$tmp/err"
rc=$?
if [[ $rc -eq 3 ]] && grep -q "ainka daemon is not running (no socket at $tmp/none.sock)" "$tmp/err"; then
	ok "ainka-cli without a daemon: exit 3 with the hint"
else
	bad "ainka-cli without a daemon: exit $rc, $(head -1 "$tmp/err")"
fi

# 5. Start a daemon of our own.
policy_file=$(dirname "$CONFIG")/policies.toml
cat >"$tmp/config.toml" <<EOT
[daemon]
pid_file = "$tmp/ainka.pid"
work_dir = "$tmp/state"
socket_path = "$tmp/ainka.sock"
dry_run = true
log_level = "debug"

[policy]
policy_file = "$policy_file"
EOT
sock=$tmp/ainka.sock
if [[ $LIVE == 1 ]]; then
	mode="live"
	"$AINKA" run --config "$tmp/config.toml" --duration 120s >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
	daemon_pid=$!
else
	if [[ -z $TRACE ]]; then
		for t in "$PREFIX"/share/ainka/traces/*.trace "$(dirname "$0")"/../testdata/traces/*.trace; do
			[[ -f $t ]] && TRACE=$t && break
		done
	fi
	if [[ -z $TRACE ]]; then
		bad "no trace to replay (give --trace FILE, or --live as root)"
		echo "summary: $pass passed, $fail failed"
		exit 1
	fi
	mode="replay of $TRACE"
	# Original pacing, repeated, so the daemon stays up for the checks.
	"$AINKA" replay "$TRACE" --config "$tmp/config.toml" --speed 1 --repeat 1000 >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
	daemon_pid=$!
fi
for _ in $(seq 150); do
	[[ -S $sock ]] && break
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.1
done
if [[ -S $sock ]]; then
	ok "daemon started ($mode), control socket $sock"
else
	bad "daemon ($mode) did not create $sock within 15s: $(tail -3 "$tmp/daemon.err")"
	echo "summary: $pass passed, $fail failed"
	exit 1
fi
if [[ $(stat -c %a "$sock") == 600 ]]; then
	ok "control socket mode 0600"
else
	bad "control socket mode $(stat -c %a "$sock"), want 600"
fi

# 6. Drive it.
cli() { "$CLI" --socket "$sock" "$@"; }
check_cli() { # DESCRIPTION PATTERN ARGS...
	local what=$1 pat=$2
	shift 2
	if cli "$@" >"$tmp/out" 2>"$tmp/err" && grep -Eq -- "$pat" "$tmp/out"; then
		ok "$what"
	else
		bad "$what: exit $?, $(head -2 "$tmp/err") $(head -2 "$tmp/out")"
	fi
}
check_cli "ainka-cli status" '^state:' status
check_cli "ainka-cli --status --json" '"state"' --status --json
if command -v jq >/dev/null; then
	if cli status --json | jq -e '.pid > 0 and (.stages | length) > 0' >/dev/null; then
		ok "status JSON has the pid and the stages"
	else
		bad "status JSON lacks the pid or the stages: $(cli status --json | head -c 300)"
	fi
fi
check_cli "ainka-cli metrics" 'ainka_' metrics
check_cli "ainka-cli metrics --raw" '^ainka_stage_in_total' metrics --raw
check_cli "ainka-cli policy list" '.' policy list --json
check_cli "ainka-cli logs --since 1m" '.' logs --since 1m
check_cli "ainka-cli rollback --print" '.' rollback --print
check_cli "ainka-cli emergency-mode on" 'emergency mode on' emergency-mode on
check_cli "status shows emergency" '^emergency: +on' status
check_cli "ainka-cli emergency-mode off" 'emergency mode off' --emergency-mode off

# 7. Stop: SIGTERM drains and exits 0, and removes the socket and pid file.
if ! kill -0 "$daemon_pid" 2>/dev/null; then
	wait "$daemon_pid"
	bad "daemon exited early (status $?): $(tail -3 "$tmp/daemon.err")"
else
	kill -TERM "$daemon_pid"
	rc=124
	for _ in $(seq 300); do
		if ! kill -0 "$daemon_pid" 2>/dev/null; then
			wait "$daemon_pid"
			rc=$?
			break
		fi
		sleep 0.1
	done
	if [[ $rc -eq 0 ]]; then
		ok "daemon stopped on SIGTERM (exit 0)"
	elif [[ $rc -eq 124 ]]; then
		bad "daemon still running 30s after SIGTERM"
		kill -KILL "$daemon_pid"
	else
		bad "daemon exit status $rc after SIGTERM: $(tail -3 "$tmp/daemon.err")"
	fi
	daemon_pid=
	[[ ! -e $sock ]] && ok "control socket removed at exit" || bad "control socket left at $sock"
	[[ ! -e $tmp/ainka.pid ]] && ok "pid file removed at exit" || bad "pid file left at $tmp/ainka.pid"
fi

echo "summary: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
