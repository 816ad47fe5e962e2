package source

import (
	"context"
	"errors"
	"runtime"
	"sort"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/internal/testenv"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/pipeline"
)

// pipeFds returns a non-blocking pipe, closed at the test's end.
func pipeFds(t testing.TB) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

func newTestKernelWait(t *testing.T, fd int) *kernelWait {
	t.Helper()
	k, err := newKernelWait(fd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.close)
	return k
}

// A wait with nothing to read ends at its deadline, not before; a wake-up
// of the fd ends it early; data left unread does not end the next wait
// (edge-triggered, as the ring needs); and a timer expiry left from a
// wait the fd ended does not end the next one at once.
func TestKernelWait(t *testing.T) {
	testenv.MeasuresTime(t)
	rfd, wfd := pipeFds(t)
	k := newTestKernelWait(t, rfd)

	start := monotonicNs()
	if _, err := k.until(start + 20e6); err != nil {
		t.Fatal(err)
	}
	if d := monotonicNs() - start; d < 20e6 {
		t.Errorf("nothing to read: the wait ended after %v, before its 20 ms deadline", time.Duration(d))
	}

	go func() { time.Sleep(10 * time.Millisecond); unix.Write(wfd, []byte{1}) }()
	start = monotonicNs()
	if _, err := k.until(start + uint64(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(monotonicNs() - start); d > 2*time.Second {
		t.Errorf("a write 10 ms in did not end a 5 s wait: it took %v", d)
	}

	// The byte is still unread, and the 5 s timer was set: a new wait must
	// last its own 30 ms, neither ended by the unread byte nor by a stale
	// expiry (sleep past a short wait's deadline first to leave one).
	start = monotonicNs()
	if _, err := k.until(start + 1e6); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	start = monotonicNs()
	if _, err := k.until(start + 30e6); err != nil {
		t.Fatal(err)
	}
	if d := monotonicNs() - start; d < 30e6 {
		t.Errorf("with a byte left unread the wait ended after %v, before its 30 ms deadline", time.Duration(d))
	}

	if _, err := k.until(monotonicNs() - 1); err != nil {
		t.Errorf("a deadline in the past: %v", err)
	}
}

func TestKernelWaitBadFd(t *testing.T) {
	_, err := newKernelWait(-1)
	if err == nil || !errors.Is(err, unix.EBADF) {
		t.Fatalf("newKernelWait(-1) = %v, want EBADF", err)
	}
}

// The reason for kernelWait: the ring's wait on a real-time thread ends
// on time. Go's poller wakes a deadline from an epoll_wait whose timeout
// is in whole milliseconds, so its waits end up to a millisecond late
// (median 0.3 to 0.8 ms measured here); the timerfd's end within the
// timer interrupt's delay. Both are measured in one run, interleaved, on
// the 2.5 ms read deadline of 10 ms windows; the assertion is that the
// kernel wait's median lateness is below Go's (Go's includes the same
// interrupt delay, plus its rounding).
func TestKernelWaitOnTime(t *testing.T) {
	testenv.MeasuresTime(t)
	rfd, _ := pipeFds(t)
	goRing := &ring{}
	var err error
	if goRing.f, goRing.rc, err = pollable(rfd); err != nil {
		t.Fatal(err)
	}
	defer goRing.f.Close()
	kRing := &ring{kw: newTestKernelWait(t, rfd)}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const d, n = 2500 * time.Microsecond, 40
	var goLate, kLate []float64
	for i := 0; i < n; i++ {
		for _, c := range []struct {
			r    *ring
			late *[]float64
		}{{goRing, &goLate}, {kRing, &kLate}} {
			start := monotonicNs()
			if err := c.r.wait(d); err != nil {
				t.Fatal(err)
			}
			*c.late = append(*c.late, float64(monotonicNs()-start)/1e3-float64(d.Microseconds()))
		}
	}
	g, k := median(goLate), median(kLate)
	t.Logf("lateness of a %v wait, median of %d: Go's poller %.0f µs, kernel wait %.0f µs", d, n, g, k)
	if k >= g {
		t.Errorf("the kernel wait's median lateness %.0f µs is not below Go's poller's %.0f µs", k, g)
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// wakeAt spins only the last stretch: it returns at its time, and the CPU
// it takes for a 30 ms wait with a 200 µs spin is about the spin, not the
// wait.
func TestWakeAtSpinsOnlyTheEnd(t *testing.T) {
	testenv.MeasuresTime(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const spin, wait = 200 * time.Microsecond, 30 * time.Millisecond
	cpu0 := threadCPU(t)
	start := monotonicNs()
	wakeAt(start+uint64(wait), spin)
	if d := time.Duration(monotonicNs() - start); d < wait {
		t.Errorf("wakeAt returned after %v, before its %v", d, wait)
	}
	// The thread's CPU clock ticks at the scheduler's granularity: allow
	// a few milliseconds over the spin, far below the 30 ms a spin of the
	// whole wait would take.
	if used := threadCPU(t) - cpu0; used > 8*time.Millisecond {
		t.Errorf("wakeAt(+%v, spin %v) used %v of CPU: it spun more than its end", wait, spin, used)
	}
}

func threadCPU(*testing.T) time.Duration { return time.Duration(threadCPUNs()) }

func TestWakeSpinBounds(t *testing.T) {
	for _, c := range []struct {
		spin, interval time.Duration
		ok             bool
	}{
		{0, 10 * time.Millisecond, true},
		{200 * time.Microsecond, 10 * time.Millisecond, true},
		{MaxWakeSpin, 100 * time.Millisecond, true},
		{200 * time.Microsecond, -1, true}, // no host samples: unused
		{-time.Microsecond, 10 * time.Millisecond, false},
		{MaxWakeSpin + 1, 100 * time.Millisecond, false},
		{time.Millisecond, 4 * time.Millisecond, false}, // a quarter of the interval
	} {
		_, err := Config{WakeSpin: c.spin, HostInterval: c.interval}.withDefaults()
		if (err == nil) != c.ok {
			t.Errorf("WakeSpin %v at interval %v: err %v, want ok=%v", c.spin, c.interval, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrBadPolicy) {
			t.Errorf("WakeSpin %v: error %v does not wrap ErrBadPolicy", c.spin, err)
		}
	}
}

// BenchmarkWakeLateness measures how late the source's reader reaches an
// aligned host sample (a window's end) as Live.Run waits for it: the ring
// waited on with the read deadline of 10 ms windows (2.5 ms) until
// preciseWake before the sample, then wakeAt. One b.N is one 10 ms
// window, on a thread of its own at SCHED_FIFO 10 unless "other"; the
// ring is an idle pipe, as on a quiet host, where nothing but the
// deadlines wakes the reader. Metrics: lateness percentiles (µs) and the
// thread's CPU (% of one CPU, the spin's cost). Needs root for SCHED_FIFO.
//
//	go test -run '^$' -bench WakeLateness -benchtime 500x ./stages/source
func BenchmarkWakeLateness(b *testing.B) {
	for _, c := range []struct {
		name   string
		kernel bool
		fifo   bool
		spin   time.Duration
	}{
		{"poller/other", false, false, 0},
		{"poller/fifo", false, true, 0},
		{"kernel/fifo", true, true, 0},
		{"kernel/fifo/spin200us", true, true, 200 * time.Microsecond},
	} {
		b.Run(c.name, func(b *testing.B) {
			rfd, _ := pipeFds(b)
			r := &ring{}
			var err error
			if c.kernel {
				r.kw, err = newKernelWait(rfd)
			} else {
				r.f, r.rc, err = pollable(rfd)
			}
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan []float64)
			var cpu time.Duration
			start := time.Now()
			go func() {
				// The thread is never unlocked: Go ends it with the
				// goroutine, and its policy with it.
				runtime.LockOSThread()
				if c.fifo {
					attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 10}
					if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
						done <- nil
						return
					}
				}
				cpu0 := threadCPUNs()
				done <- lateWindows(r, b.N, 10*time.Millisecond, 2500*time.Microsecond, c.spin)
				cpu = time.Duration(threadCPUNs() - cpu0)
			}()
			late := <-done
			if late == nil {
				b.Skip("SCHED_FIFO refused (needs root)")
			}
			sort.Float64s(late)
			q := func(p float64) float64 { return late[min(len(late)-1, int(p*float64(len(late))))] }
			b.ReportMetric(q(.5), "p50-µs")
			b.ReportMetric(q(.99), "p99-µs")
			b.ReportMetric(q(.999), "p99.9-µs")
			b.ReportMetric(100*cpu.Seconds()/time.Since(start).Seconds(), "cpu-%")
			if c.kernel {
				r.kw.close()
			} else {
				r.f.Close()
			}
		})
	}
}

// lateWindows waits for n aligned window ends as Live.Run does and returns
// how late (µs) it reached each.
func lateWindows(r *ring, n int, interval, deadline, spin time.Duration) []float64 {
	late := make([]float64, 0, n)
	iv := uint64(interval)
	next := nextAligned(monotonicNs(), iv, 0) + iv
	for len(late) < n {
		now := monotonicNs()
		switch {
		case now >= next:
			late = append(late, float64(now-next)/1e3)
			next = nextAligned(now, iv, 0)
		case next-now > uint64(preciseWake):
			r.wait(min(deadline, time.Duration(next-now)-preciseWake))
		default:
			wakeAt(next, spin)
		}
	}
	return late
}

func threadCPUNs() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return uint64(ts.Nano())
}

// Waiting again for the same deadline, as the reader does after each early
// wake by the ring, waits out the rest of it and then says it has passed;
// once passed, it returns at once. Re-arming on every wait was one of the
// reader's system calls per wake.
func TestKernelWaitSameDeadline(t *testing.T) {
	testenv.MeasuresTime(t)
	rfd, wfd := pipeFds(t)
	k := newTestKernelWait(t, rfd)
	start := monotonicNs()
	deadline := start + 40e6
	unix.Write(wfd, []byte{1})
	if passed, err := k.until(deadline); err != nil || passed {
		t.Fatalf("woken by the fd: passed %v, err %v; want not passed", passed, err)
	}
	if d := monotonicNs() - start; d >= 40e6 {
		t.Fatalf("a pending byte did not end the wait early (%v)", time.Duration(d))
	}
	if passed, err := k.until(deadline); err != nil || !passed {
		t.Fatalf("second wait for the same deadline: passed %v, err %v; want passed", passed, err)
	}
	if now := monotonicNs(); now < deadline {
		t.Errorf("the second wait ended %v before its deadline", time.Duration(deadline-now))
	}
	again := monotonicNs()
	if passed, err := k.until(deadline); err != nil || !passed {
		t.Fatalf("a passed deadline: passed %v, err %v", passed, err)
	}
	if d := time.Duration(monotonicNs() - again); d > 20*time.Millisecond {
		t.Errorf("waiting for a passed deadline took %v", d)
	}
}

// The calibrated clock is CLOCK_MONOTONIC: never behind a clock_gettime
// read before it, ahead of one read after it by at most the calibration's
// spread.
func TestMonotonicNs(t *testing.T) {
	for range 1000 {
		before := clockMonotonic()
		m := monotonicNs()
		after := clockMonotonic()
		if m < before || m > after+uint64(monoSpread) {
			t.Fatalf("monotonicNs %d outside [%d, %d + spread %v]", m, before, after, monoSpread)
		}
	}
	if d := time.Now().Add(time.Second); monoOf(d)-monotonicNs() > uint64(time.Second) {
		t.Errorf("monoOf(now + 1 s) is %v ahead", time.Duration(monoOf(d)-monotonicNs()))
	}
}

// Run refuses Config.KernelWait on an ordinary thread: there the reader
// waits for a CPU behind the tasks it reads (onRealTimeThread).
func TestKernelWaitNeedsRealTime(t *testing.T) {
	needKernel(t)
	l, err := NewLive(Config{Policy: Policy{Kinds: []record.Kind{record.KindHostSample}}, KernelWait: true})
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Options{})
	pipeline.AddSource[[]byte](p, "source", l)
	err = p.Run(context.Background())
	if !errors.Is(err, ErrKernelWaitThread) {
		t.Fatalf("Run with KernelWait on an ordinary thread: %v, want ErrKernelWaitThread", err)
	}
	t.Log(err)
}
