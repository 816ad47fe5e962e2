package pipeline

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// ErrRealTime is wrapped when Options.RealTime cannot be had.
var ErrRealTime = errors.New("real-time priority refused")

// MaxRealTime is the highest Options.RealTime: SCHED_FIFO priorities run
// from 1 to 99, and the top ones belong to the kernel's own threads
// (watchdogs, interrupt threads at 50).
const MaxRealTime = 49

// realtime moves the calling goroutine, for the rest of its life, onto an
// OS thread of its own under SCHED_FIFO at prio: it then runs as soon as
// it is runnable, ahead of every SCHED_OTHER task however many there are.
// The thread is never unlocked, so Go ends it with the goroutine and no
// other goroutine ever runs under the policy. The kernel's real-time
// throttling (sched_rt_runtime_us, 95 % of each second by default) still
// bounds what a stage gone wrong could take.
func realtime(prio int) error {
	if prio < 1 || prio > MaxRealTime {
		return fmt.Errorf("%w: priority %d outside [1, %d]", ErrRealTime, prio, MaxRealTime)
	}
	runtime.LockOSThread()
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: uint32(prio)}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		return fmt.Errorf("%w: SCHED_FIFO %d: %v (needs CAP_SYS_NICE, and on a cgroup v1 cpu hierarchy a cpu.rt_runtime_us budget for the daemon's group)", ErrRealTime, prio, err)
	}
	return nil
}
