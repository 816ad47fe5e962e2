// Package rssgoal turns an RSS goal (daemon.max_memory_mb) into the Go
// memory limit that keeps the whole process under it.
//
// A Go memory limit bounds only what the Go runtime maps: the heap, the
// stacks and the runtime's own structures. The daemon's resident set also
// holds pages the runtime never sees: the BPF ring buffer (mapped shared,
// every page resident from the mmap on) and the pages of the binary and of
// libc that have been touched. With a 16 MiB ring those are about 29 MiB,
// so a Go limit equal to the goal let RSS reach goal + 29 MiB. The limit is
// therefore derived: goal − ring − fixed part − margin, where the fixed
// part is measured from /proc/self/smaps, and re-derived every second
// because more of the binary is touched as the daemon meets new work.
//
// Start fails with ErrUnreachable when the goal cannot leave the Go heap
// its floor (a ring as large as the goal, say): a bound the daemon could
// not keep is refused at start, not discovered by an operator later.
package rssgoal
