package source

import (
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/pipeline"
	"golang.org/x/sys/unix"
)

// TestRingWrap uses the smallest ring (one page) so that records cross its
// end many times: the reader maps the data pages once and copies such
// records in two parts; every record must still arrive intact.
func TestRingWrap(t *testing.T) {
	needKernel(t)
	t.Run("go poller", func(t *testing.T) { ringWrap(t, false) })
	// The real-time thread's wait, run as the daemon runs it (one
	// SCHED_FIFO thread): the kernel's wake-ups of the ring (its fill
	// threshold, 256 bytes here) reach the reader through its own
	// epoll_wait. On an ordinary thread Run refuses it (ErrKernelWaitThread).
	t.Run("kernel wait", func(t *testing.T) { ringWrap(t, true) })
}

func ringWrap(t *testing.T, kernelWait bool) {
	self := uint32(os.Getpid())
	l, err := NewLive(Config{
		Policy:    Policy{Kinds: []record.Kind{record.KindSyscall}, Pid: self, IncludeSelf: true},
		RingBytes: os.Getpagesize(), HostInterval: -1, ReadDeadline: time.Millisecond, KernelWait: kernelWait,
	})
	if err != nil {
		t.Fatal(err)
	}
	testenv.MeasuresTime(t)
	var getpidRecs int
	c := &collector{keep: func(rec []byte) bool {
		if binary.LittleEndian.Uint32(rec[40:]) == unix.SYS_GETPID {
			getpidRecs++
			if ret := int64(binary.LittleEndian.Uint64(rec[48:])); ret != int64(self) || hdrPid(rec) != self {
				t.Errorf("getpid record damaged: pid %d, return value %d, want %d", hdrPid(rec), ret, self)
			}
		}
		return false
	}}
	opts := pipeline.Options{QueueLen: 64}
	if kernelWait {
		opts = realTime
	}
	captureWith(t, l, c, opts, func() {
		// 10 records (720 bytes) at a time, so that the reader keeps up
		// with a 4 KiB ring; 2000 records go round it 35 times.
		for range 200 {
			getpids(10)
			time.Sleep(100 * time.Microsecond)
		}
	})
	s := checkExact(t, l, c)[record.KindSyscall]
	if l.wrapped == 0 {
		t.Errorf("no record crossed the end of the ring (%d read, %d lost)", s.Read, s.Lost)
	}
	// The reader keeps up with about all of them on an idle machine; on a
	// loaded one it may be off the CPU for a few ms and the 4 KiB ring
	// fills, so losses are allowed (counted exactly by checkExact).
	if f := l.RingFill(); !(f > 0 && f <= 1) {
		t.Errorf("ring fill %v after records went round a 4 KiB ring, want in (0, 1]", f)
	}
	if getpidRecs < 500 {
		t.Errorf("%d getpid records delivered of 2000 (lost %d)", getpidRecs, s.Lost)
	}
	t.Logf("%d getpid records of 2000 delivered; %d records read, %d crossed the end of the ring, %d lost", getpidRecs, s.Read, l.wrapped, s.Lost)
}

func TestDefaultReadDeadline(t *testing.T) {
	for _, c := range []struct{ interval, want time.Duration }{
		{100 * time.Millisecond, 25 * time.Millisecond},
		{10 * time.Millisecond, 2500 * time.Microsecond},
		{2 * time.Millisecond, time.Millisecond},
		{time.Millisecond, time.Millisecond},
		{500 * time.Millisecond, 50 * time.Millisecond},
		{time.Minute, 50 * time.Millisecond},
		{0, 25 * time.Millisecond},
		{-1, 25 * time.Millisecond},
	} {
		if got := DefaultReadDeadline(c.interval); got != c.want {
			t.Errorf("DefaultReadDeadline(%s) = %s, want %s", c.interval, got, c.want)
		}
	}
}
