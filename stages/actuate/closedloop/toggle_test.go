package closedloop

import (
	"flag"
	"fmt"
	"golang.org/x/sys/unix"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
)

// toggleEnv, set to a window length in ns, makes the test binary a
// toggler instead of running tests (TestMain): a process that wakes
// itself many times in the first part of every third window and sleeps
// through the rest, so that a condition on wakeups_per_s is true in every
// third window (togglePeriod). The latency probe's natural condition (run-queue latency
// above its forecast) held in about 4 % of 10 ms windows and fewer at
// 100 ms: a p99.9 of applied changes then needs hours of the live lock;
// with the toggler a write follows every third window.
const toggleEnv = "AINKA_CLOSED_LOOP_TOGGLE_NS"

var (
	toggle        = flag.Bool("toggle", false, "latency probe: drive its condition with a toggler process (wakeups in every third window) instead of run-queue latency above its forecast")
	toggleWakeups = flag.Int("toggle-wakeups", 25000, "with -toggle: the policy's wakeups_per_s threshold")
)

func TestMain(m *testing.M) {
	if ns := os.Getenv(toggleEnv); ns != "" {
		n, err := strconv.ParseInt(ns, 10, 64)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "%s=%q: want a window length in ns\n", toggleEnv, ns)
			os.Exit(2)
		}
		runToggler(uint64(n), burstFraction)
		return
	}
	os.Exit(m.Run())
}

// burstFraction is the part of a burst window the toggler wakes itself
// in: it is quiet well before the window's end, so that its burst is not
// what delays the window's close.
const burstFraction = 0.4

// runToggler wakes itself from the start of every third window
// (CLOCK_MONOTONIC / window) for frac of it, and sleeps until the next
// such window; it runs until killed. Its wake-ups are a ping-pong of two
// threads over two pipes (blocking reads, no timer: a timer's wake-up is
// tens of µs on this VM, a pipe's a few).
func runToggler(window uint64, frac float64) {
	var ping, pong [2]int
	if unix.Pipe2(ping[:], unix.O_CLOEXEC) != nil || unix.Pipe2(pong[:], unix.O_CLOEXEC) != nil {
		os.Exit(3)
	}
	go func() { // the echo: every byte read on ping goes back on pong
		runtime.LockOSThread()
		b := []byte{0}
		for {
			if n, _ := unix.Read(ping[0], b); n == 1 {
				unix.Write(pong[1], b)
			}
		}
	}()
	runtime.LockOSThread()
	b := []byte{0}
	for {
		burstEnd, next := togglePlan(mono(), window, frac)
		for mono() < burstEnd {
			unix.Write(ping[1], b)
			unix.Read(pong[0], b)
		}
		ts := unix.NsecToTimespec(int64(next))
		for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
		}
	}
}

// togglePeriod is the toggler's period in windows: a burst in one window,
// quiet in the next two. The policy's revert_after starts counting in the
// first window the condition is clear and reverts in the second; with a
// burst every other window the condition would be true again before the
// revert, and the action, still applied, would not be written again.
const togglePeriod = 3

// togglePlan returns, for time now, when the toggler's burst ends (now or
// earlier: no burst) and when the next burst's window starts.
func togglePlan(now, window uint64, frac float64) (burstEnd, next uint64) {
	w := now / window
	start := w * window
	next = (w/togglePeriod + 1) * togglePeriod * window
	if w%togglePeriod == 0 {
		return start + uint64(frac*float64(window)), next
	}
	return now, next
}

// probeCondition is the latency probe's policy: with -toggle, a threshold
// on wakeups_per_s that the toggler crosses in every third window;
// otherwise run-queue latency above its own forecast, which the hogs make
// flip now and then.
func probeCondition() string {
	if *toggle {
		return fmt.Sprintf("wakeups_per_s > %d", *toggleWakeups)
	}
	return "runq_latency_p99_us > forecast(runq_latency_p99_us)"
}

// startToggler runs this test binary as the toggler in cgroup rel (not the
// probe's, whose cpu.weight the policy lowers); nil without -toggle.
func (g *groups) startToggler(t *testing.T, rel string) *exec.Cmd {
	if !*toggle {
		return nil
	}
	cmd := g.start(t, rel, os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", toggleEnv, interval.Nanoseconds()))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("toggler: %v", err)
	}
	return cmd
}

func TestTogglePlan(t *testing.T) {
	const w = 10_000_000 // 10 ms
	for _, tc := range []struct{ now, end, next uint64 }{
		{now: 6 * w, end: 6*w + 4_000_000, next: 9 * w},           // a burst window's start: burst for 40 %
		{now: 6*w + 5_000_000, end: 6*w + 4_000_000, next: 9 * w}, // past the burst: wait for the next burst window
		{now: 7*w + 1, end: 7*w + 1, next: 9 * w},                 // a quiet window: no burst
		{now: 8*w + 9, end: 8*w + 9, next: 9 * w},                 // the second quiet window
	} {
		end, next := togglePlan(tc.now, w, 0.4)
		if end != tc.end || next != tc.next {
			t.Errorf("togglePlan(%d): burst end %d, next %d; want %d, %d", tc.now, end, next, tc.end, tc.next)
		}
	}
}
