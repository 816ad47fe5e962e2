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
// itself many times in the first part of every other window and sleeps
// through the rest, so that a condition on wakeups_per_s is true in every
// other window. The latency probe's natural condition (run-queue latency
// above its forecast) held in about 4 % of 10 ms windows and fewer at
// 100 ms: a p99.9 of applied changes then needs hours of the live lock;
// with the toggler a write follows every second window.
const toggleEnv = "AINKA_CLOSED_LOOP_TOGGLE_NS"

var (
	toggle        = flag.Bool("toggle", false, "latency probe: drive its condition with a toggler process (wakeups in every other window) instead of run-queue latency above its forecast")
	toggleWakeups = flag.Int("toggle-wakeups", 20000, "with -toggle: the policy's wakeups_per_s threshold")
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

// burstFraction is the part of an even window the toggler wakes itself
// in: it is quiet well before the window's end, so that its burst is not
// what delays the window's close.
const burstFraction = 0.4

// runToggler wakes itself (1 µs sleeps, timer slack 1 ns) from the start
// of every even window (CLOCK_MONOTONIC / window) for frac of it, and
// sleeps until the next even window; it runs until killed.
func runToggler(window uint64, frac float64) {
	runtime.LockOSThread() // the timer slack is the thread's
	unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	for {
		burstEnd, next := togglePlan(mono(), window, frac)
		for mono() < burstEnd {
			unix.Nanosleep(&unix.Timespec{Nsec: 1000}, nil)
		}
		ts := unix.NsecToTimespec(int64(next))
		for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
		}
	}
}

// togglePlan returns, for time now, when the toggler's burst ends (now or
// earlier: no burst) and when the next even window starts.
func togglePlan(now, window uint64, frac float64) (burstEnd, next uint64) {
	w := now / window
	start := w * window
	if w%2 == 0 {
		burstEnd = start + uint64(frac*float64(window))
		return burstEnd, start + 2*window
	}
	return now, start + window
}

// probeCondition is the latency probe's policy: with -toggle, a threshold
// on wakeups_per_s that the toggler crosses in every other window;
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
		{now: 4 * w, end: 4*w + 4_000_000, next: 6 * w},           // an even window's start: burst for 40 %
		{now: 4*w + 5_000_000, end: 4*w + 4_000_000, next: 6 * w}, // past the burst: wait for the next even window
		{now: 5*w + 1, end: 5*w + 1, next: 6 * w},                 // an odd window: no burst
	} {
		end, next := togglePlan(tc.now, w, 0.4)
		if end != tc.end || next != tc.next {
			t.Errorf("togglePlan(%d): burst end %d, next %d; want %d, %d", tc.now, end, next, tc.end, tc.next)
		}
	}
}
