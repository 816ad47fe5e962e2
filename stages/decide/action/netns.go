package action

import (
	"fmt"
	"strconv"
	"strings"
)

// NetnsPrefix starts the namespace word of a per-namespace sysctl:
//
//	sysctl netns:4026532345 net.ipv4.tcp_congestion_control = bbr
//
// writes the sysctl inside the network namespace whose inode number
// (/proc/PID/ns/net, /run/netns/NAME; what tcp records carry) is
// 4026532345. Only the net.ipv4.* sysctls of the allowlist, which every
// namespace has its own copy of, take one.
const NetnsPrefix = "netns:"

// NetnsSysctl returns the namespace inode of a per-namespace sysctl
// action (a.Knob), and whether a is one.
func NetnsSysctl(a Action) (uint64, bool) {
	if a.Kind != Sysctl {
		return 0, false
	}
	s, ok := strings.CutPrefix(a.Knob, NetnsPrefix)
	if !ok {
		return 0, false
	}
	ino, err := strconv.ParseUint(s, 10, 32)
	return ino, err == nil && ino > 0
}

// PerNetns reports whether a sysctl has a copy per network namespace
// (so that a netns: word may name one).
func PerNetns(name string) bool {
	_, ok := Sysctls[name]
	return ok && strings.HasPrefix(name, "net.ipv4.")
}

// parseNetnsSysctl parses "sysctl netns:INODE NAME OP VALUE".
func parseNetnsSysctl(a Action, ws []word) (Action, error) {
	w := ws[1]
	a.Knob = w.s
	if _, ok := NetnsSysctl(a); !ok {
		return a, &Error{w.col, fmt.Sprintf("%q: want netns:INODE, the namespace's inode number", w.s)}
	}
	a, err := parseTail(a, ws, 2, false)
	if err != nil {
		return a, err
	}
	if !PerNetns(a.Target) {
		return a, &Error{ws[2].col, fmt.Sprintf("sysctl %s has no copy per network namespace (only net.ipv4.* do)", a.Target)}
	}
	return a, nil
}
