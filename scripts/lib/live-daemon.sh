# live-daemon.sh — what scripts/bench-live.sh and scripts/soak.sh share:
# sourced (POSIX sh) after they set tmp, PORT, MAX_MEMORY_MB and RING_MB.

# live_prepare: the daemon binary ($AINKA, or go build) and the getppid
# load generator in $tmp, and a config that keeps everything in $tmp:
# no policies, no model, no metrics listener of its own.
live_prepare() {
	if [ -n "${AINKA:-}" ]; then
		cp "$AINKA" "$tmp/ainka"
	else
		${GO:-go} build -o "$tmp/ainka" ./cmd/ainka
	fi
	cc -O2 -o "$tmp/loadgen" scripts/lib/loadgen.c
	cat >"$tmp/config.toml" <<EOF
[daemon]
pid_file = "$tmp/ainka.pid"
work_dir = "$tmp/work"
socket_path = "$tmp/ainka.sock"
max_memory_mb = $MAX_MEMORY_MB
metrics_addr = ""
[ml]
model_path = ""
[policy]
policy_file = ""
[telemetry]
ring_buffer_mb = $RING_MB
EOF
}

metrics() { curl -sf "http://127.0.0.1:$PORT/metrics"; }
# sum of a metric family (all label sets)
msum() { awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%.6f\n", s }'; }

# live_wait NAME: wait until the daemon ($daemon) serves /metrics, then one
# second more (programs attached, first windows out). Returns 2, with the
# daemon's stderr, when it died or took over 10 s.
live_wait() {
	i=0
	until metrics >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$daemon" 2>/dev/null; then
			echo "$1: the daemon did not start:" >&2
			cat "$tmp/err" >&2
			return 2
		fi
		sleep 0.1
	done
	sleep 1
}
