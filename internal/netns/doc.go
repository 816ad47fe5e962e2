// Package netns runs a function inside another network namespace, named
// by its inode number (what /proc/PID/ns/net, /run/netns/NAME and the
// tcp records show): a network namespace's sysctls (net.ipv4.*) are its
// own, and /proc/sys/net shows the copy of the namespace of the thread
// that opens it. Actuate writes them through it; the tune stage reads
// them.
package netns
