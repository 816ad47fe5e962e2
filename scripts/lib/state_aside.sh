# Sourced by scripts/install_test.sh --real and scripts/deb_test.sh, which
# install on this very system: the state an earlier daemon left (a test,
# `make run`) is not theirs to purge, so it is set aside before and put
# back after. Both refuse to run while a daemon runs.
#
#   state_aside TMPDIR     (exits 1 when a daemon runs)
#   state_back TMPDIR      (from the caller's EXIT trap)

state_aside() {
	local d
	if [[ -f /run/ainka/ainka.pid ]] && kill -0 "$(cat /run/ainka/ainka.pid)" 2>/dev/null; then
		echo "${0##*/}: refusing to run while a daemon runs (pid file /run/ainka/ainka.pid)" >&2
		exit 1
	fi
	for d in /var/lib/ainka /run/ainka; do
		[[ -e $d ]] || continue
		mkdir -p "$1/aside$(dirname "$d")"
		mv "$d" "$1/aside$d"
	done
}

state_back() {
	local d
	for d in /var/lib/ainka /run/ainka; do
		[[ -e $1/aside$d ]] || continue
		rm -rf "$d"
		mv "$1/aside$d" "$d"
	done
}
