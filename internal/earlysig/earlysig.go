// Package earlysig makes the process ignore SIGHUP from its first
// microseconds, before any other package's init has run.
//
// SIGHUP's default action ends a process, and Go handles it only once
// os/signal's Notify has run, which for ainka is after ~60 ms of package
// initialisation on a loaded host (cilium/ebpf's rlimit probe alone can
// take tens of milliseconds). A reload request sent in that window (a
// unit's ExecReload, a configuration tool) killed the daemon with its pid
// file left behind. This package's init sets SIGHUP to "ignore" with one
// raw rt_sigaction: it imports nothing but syscall and unsafe, so Go's
// package initialisation order (ready packages by import path) runs it
// before the heavy ones. daemon.CatchSignals later hands SIGHUP back to
// Go's signal package (Ignore then Notify reinstalls Go's handler).
//
// Importing it (for its init) is the whole API. Every ainka subcommand
// ignores SIGHUP until then, which for the offline tools means they run on
// after a terminal hangs up, like nohup.
package earlysig

import (
	"syscall"
	"unsafe"
)

// sigaction is the kernel's struct sigaction on Linux (amd64, arm64).
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const sigIgn = 1 // SIG_IGN

func init() {
	sa := sigaction{handler: sigIgn}
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGHUP), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
}
