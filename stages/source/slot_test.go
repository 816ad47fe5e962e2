package source

import (
	"encoding/binary"
	"github.com/ainka/ainka/internal/testenv"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"golang.org/x/sys/unix"
)

// TestSyscallSlotParking checks the two paths of a syscall's enter time: a
// syscall that sleeps is switched out, so its per-CPU slot is parked in
// task storage and its exit, here on another CPU (the sleeper is moved
// while asleep), must still report its own id and full latency; meanwhile
// another thread of ours makes getpid calls on both CPUs, whose records
// must carry the getpid id and short latencies (the fast path, which a
// slot left by the sleeper would corrupt).
func TestSyscallSlotParking(t *testing.T) {
	needKernel(t)
	if runtime.NumCPU() < 2 {
		testenv.SkipUnlessVM(t, "needs two CPUs to move a sleeping thread")
	}
	self := uint32(os.Getpid())
	l, err := NewLive(Config{
		Policy:    Policy{Kinds: []record.Kind{record.KindSyscall}, Pid: self, IncludeSelf: true},
		RingBytes: 4 << 20, HostInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	testenv.MeasuresTime(t)
	// The sleeper is moved a tenth of its sleep in: on a loaded host
	// (nice 10, load 12) a 30 ms sleep ended before the test's own
	// 10 ms sleep did, and the sleeper was never moved while asleep.
	const sleep = 300 * time.Millisecond
	var sleeperTid int
	var woke atomic.Bool
	c := &collector{keep: func(rec []byte) bool {
		id := binary.LittleEndian.Uint32(rec[40:])
		return id == unix.SYS_CLOCK_NANOSLEEP || id == unix.SYS_GETPID
	}}
	capture(t, l, c, 64, func() {
		var wg sync.WaitGroup
		tidc := make(chan int)
		wg.Add(2)
		go func() { // the sleeper: starts on CPU 0, wakes up on CPU 1
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var set unix.CPUSet
			set.Set(0)
			if err := unix.SchedSetaffinity(0, &set); err != nil {
				t.Errorf("pin to CPU 0: %v", err)
			}
			tidc <- unix.Gettid()
			// clock_nanosleep: the Go runtime itself uses nanosleep.
			ts := unix.NsecToTimespec(int64(sleep))
			unix.ClockNanosleep(unix.CLOCK_MONOTONIC, 0, &ts, nil)
			woke.Store(true)
		}()
		sleeperTid = <-tidc
		stop := make(chan struct{})
		go func() { // getpid calls, moving between the CPUs
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for cpu := 0; ; cpu = 1 - cpu {
				select {
				case <-stop:
					return
				default:
				}
				var set unix.CPUSet
				set.Set(cpu)
				unix.SchedSetaffinity(0, &set)
				getpids(100)
			}
		}()
		time.Sleep(sleep / 10)
		var set unix.CPUSet
		set.Set(1)
		if err := unix.SchedSetaffinity(sleeperTid, &set); err != nil {
			t.Errorf("move the sleeper to CPU 1: %v", err)
		}
		if woke.Load() {
			t.Errorf("the sleeper woke before it was moved: the host delayed this thread by %s", sleep)
		}
		time.Sleep(30 * time.Millisecond) // getpid goes on as long as before: the ring holds it
		close(stop)
		wg.Wait()
	})
	checkExact(t, l, c)
	var slept, getpid, slow int
	for _, rec := range c.recs {
		id := binary.LittleEndian.Uint32(rec[40:])
		tid := int(binary.LittleEndian.Uint32(rec[12:]))
		lat := time.Duration(binary.LittleEndian.Uint64(rec[56:]))
		cpu := binary.LittleEndian.Uint32(rec[16:])
		switch {
		case id == unix.SYS_CLOCK_NANOSLEEP && tid == sleeperTid:
			slept++
			if lat < sleep || lat > 10*sleep {
				t.Errorf("the %s clock_nanosleep reported a latency of %s", sleep, lat)
			}
			if cpu != 1 {
				t.Errorf("the sleeper's clock_nanosleep exited on CPU %d, want 1 (moved while asleep)", cpu)
			}
		case id == unix.SYS_GETPID:
			getpid++
			if ret := int64(binary.LittleEndian.Uint64(rec[48:])); ret != int64(self) {
				t.Errorf("getpid record with return value %d, want %d", ret, self)
			}
			if lat > 5*time.Millisecond {
				slow++ // preempted inside the call, or a stale enter time
			}
		}
	}
	// A stale enter time corrupts every call on its CPU until the slot is
	// rewritten; preemption on a loaded machine delays a rare single call.
	if slow > max(1, getpid/100) {
		t.Errorf("%d of %d getpid calls report more than 5 ms: stale enter times", slow, getpid)
	}
	if slept != 1 || getpid == 0 {
		t.Errorf("%d records of the sleeper's clock_nanosleep (want 1), %d of getpid", slept, getpid)
	}
}
