package source

import (
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelWait waits for the ring on the calling thread, in epoll_wait, with
// a timerfd armed at an absolute CLOCK_MONOTONIC time for the deadline
// (Config.KernelWait). Go's poller wakes a goroutine from a deadline by a
// timer that another thread runs, in an epoll_wait whose timeout is in
// milliseconds, and a goroutine locked to its thread (the real-time
// pipeline) is then handed over to that thread: measured on this 2-vCPU
// VM, a SCHED_FIFO thread woke at a window's end p99 1.3 to 20 ms late
// through Go's deadlines against 0.5 to 1.1 ms through a timerfd, same
// load (docs/performance.md). Here the kernel's timer wakes the waiting
// thread itself.
type kernelWait struct {
	ep, tfd int
	ev      [2]unix.EpollEvent
	// armed is the time the timerfd is set to and fired whether its
	// expiry has been taken since: waiting again for the same deadline,
	// as the reader does after each early wake by the ring, needs no
	// timerfd_settime, and none at all once it has passed.
	armed uint64
	fired bool
}

// newKernelWait watches fd (edge-triggered: a ring that holds data stays
// readable, so level-triggered the wait would return at once; the kernel
// wakes the reader when its fill threshold is crossed) and a timerfd.
func newKernelWait(fd int) (*kernelWait, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("kernel wait: epoll_create1: %w", err)
	}
	k := &kernelWait{ep: ep, tfd: -1, armed: ^uint64(0)} // not armed
	k.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK)
	if err != nil {
		k.close()
		return nil, fmt.Errorf("kernel wait: timerfd_create: %w", err)
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, k.tfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(k.tfd)}); err != nil {
		k.close()
		return nil, fmt.Errorf("kernel wait: add timerfd: %w", err)
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(fd)}); err != nil {
		k.close()
		return nil, fmt.Errorf("kernel wait: add fd %d: %w", fd, err)
	}
	return k, nil
}

// until blocks until the watched fd is woken or CLOCK_MONOTONIC reaches t
// (ns), whichever comes first, and says whether t has passed. It reads no
// clock (a time already past fires the timer at once) and arms the timer
// only for a new deadline: a wait is one epoll_wait, plus a
// timerfd_settime per deadline, where it was five system calls (two
// clock_gettime, timerfd_settime, epoll_wait, the timer's read). Each is
// an eBPF record when the process traces itself, as the tests do, and on
// a guest whose clock source has no vDSO path (the 6.1 VM's hpet) each of
// Go's clock reads is a system call too.
func (k *kernelWait) until(t uint64) (bool, error) {
	if t != k.armed || !k.fired {
		if t != k.armed {
			// Setting the timer also clears an expiry left from a wait
			// that the fd ended, which would otherwise end this one.
			its := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(t))}
			if err := timerfdSetAbs(k.tfd, &its); err != nil {
				return false, fmt.Errorf("kernel wait: timerfd_settime: %w", err)
			}
			k.armed, k.fired = t, false
		}
		if err := k.wait(); err != nil {
			return false, err
		}
	}
	return k.fired, nil
}

// wait is one epoll_wait on the fd and the timer; it takes the timer's
// expiry, if any.
func (k *kernelWait) wait() error {
	for {
		n, err := unix.EpollWait(k.ep, k.ev[:], -1)
		if err == unix.EINTR { // Go's preemption signal, for one
			continue
		}
		if err != nil {
			return fmt.Errorf("kernel wait: epoll_wait: %w", err)
		}
		for _, e := range k.ev[:n] {
			if int(e.Fd) == k.tfd {
				drainTimerfd(k.tfd) // the expiry count; EAGAIN if already taken
				k.fired = true
			}
		}
		return nil
	}
}

// onRealTimeThread refuses Config.KernelWait on a thread that is not
// SCHED_FIFO or SCHED_RR. The kernel wait ties the reader to the thread in
// epoll_wait: on a real-time thread the kernel runs it as soon as the ring
// or the timer wakes it; on an ordinary one it waits for a CPU behind the
// tasks it should be reading, while Go's poller would have run the reader
// on whichever thread was running. Measured in the 6.1 VM (two vCPUs on
// one emulating host thread, every clock read a traced system call): on
// an ordinary thread the kernel wait read 166-920 of TestRingWrap's 2000
// records where Go's poller read 1 411-2 000; on a SCHED_FIFO thread, as
// the daemon runs it, 1 911-2 045 (docs/reliability.md).
func onRealTimeThread() error {
	a, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		return fmt.Errorf("%w: sched_getattr: %v", ErrKernelWaitThread, err)
	}
	if a.Policy != unix.SCHED_FIFO && a.Policy != unix.SCHED_RR {
		return fmt.Errorf("%w: Run's thread has scheduling policy %d; run it on a locked SCHED_FIFO thread (pipeline.Options.RealTime with Inline)", ErrKernelWaitThread, a.Policy)
	}
	return nil
}

// timerfdSetAbs arms tfd at an absolute time, and drainTimerfd reads its
// expiry count, as raw system calls: neither blocks (the timerfd is
// non-blocking), so Go's scheduler need not hear of them, as it must of
// the epoll_wait that does block.
func timerfdSetAbs(tfd int, its *unix.ItimerSpec) error {
	_, _, e := unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(tfd), unix.TFD_TIMER_ABSTIME, uintptr(unsafe.Pointer(its)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func drainTimerfd(tfd int) {
	var b [8]byte
	unix.RawSyscall(unix.SYS_READ, uintptr(tfd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
}

func (k *kernelWait) close() {
	if k.tfd >= 0 {
		unix.Close(k.tfd)
	}
	unix.Close(k.ep)
}

// wakeAt returns when CLOCK_MONOTONIC reaches t, sleeping with
// clock_nanosleep until spin before it and spinning on the clock from
// there (Config.WakeSpin). A sleeping thread wakes late by the timer
// interrupt's delay and, on a kernel without full preemption (this VM's is
// PREEMPT_NONE), by whatever kernel code the CPU is running when its
// timer fires; a thread already on its CPU at t is late by neither.
func wakeAt(t uint64, spin time.Duration) {
	if s := uint64(spin); s > 0 && t > s {
		sleepMono(t - s)
		// Go's clock reading is CLOCK_MONOTONIC from the vDSO, no system
		// call: the spin's exit is within a fraction of a microsecond.
		// CLOCK_MONOTONIC read before Go's clock: the conversion errs late.
		m := monotonicNs()
		end := time.Now().Add(time.Duration(int64(t) - int64(m)))
		for time.Now().Before(end) {
		}
		return
	}
	sleepMono(t)
}

// preciseWake is how long before an aligned host sample Run stops waiting
// on the ring with Go's timers and sleeps the rest with clock_nanosleep: Go
// waits in epoll_wait, whose timeout is in milliseconds, so its timers
// fire up to a millisecond late when the process is otherwise idle.
const preciseWake = 1500 * time.Microsecond

// waitUntil returns how long the ring may be waited on from now; when the
// next aligned host sample is closer than preciseWake, it reads the host's
// counters for it and sleeps until its time instead, and returns the zero
// time (empty the ring, no wait).
func (l *Live) waitUntil(r *reader, now, nextHost time.Time) time.Time {
	deadline := now.Add(l.cfg.ReadDeadline)
	if l.cfg.HostPhase <= 0 || l.host == nil {
		return minTime(deadline, nextHost)
	}
	until := nextHost.Sub(now)
	if until > preciseWake {
		return minTime(deadline, nextHost.Add(-preciseWake))
	}
	r.readHostAhead()
	wakeAt(monotonicNs()+uint64(max(time.Until(nextHost), 0)), l.cfg.WakeSpin)
	return time.Time{}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// sleepMono sleeps until CLOCK_MONOTONIC reaches t, with the thread's
// timer slack at its minimum (the default 50 µs would be most of the
// wait's error).
func sleepMono(t uint64) {
	unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	ts := unix.NsecToTimespec(int64(t))
	for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
	}
}
