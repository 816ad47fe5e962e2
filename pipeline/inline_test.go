package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// tidOf records the threads that run Process while the source runs.
type tidOf struct {
	tids  map[int]bool
	alive *atomic.Bool
}

func (p *tidOf) Process(in []num, out []num) []num {
	if p.alive.Load() {
		p.tids[unix.Gettid()] = true
	}
	return append(out, in...)
}

// lockedSource is countSource on a thread of its own, which it records.
type lockedSource struct {
	countSource
	tid   *int
	alive *atomic.Bool
}

func (l lockedSource) Run(ctx context.Context, out *Emitter[num]) error {
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine, no other runs on it
	*l.tid = unix.Gettid()
	l.alive.Store(true)
	defer l.alive.Store(false)
	return l.countSource.Run(ctx, out)
}

// TestInline: with Options.Inline every stage runs on the source's
// thread (issue 16: no goroutine hand-off between a window and its
// write), with the results, flush, taps and counts of the queued chain,
// and a non-blocking send never drops. Without Inline the stages run on
// other threads than the source's.
func TestInline(t *testing.T) {
	run := func(inline bool) (srcTid int, probe *tidOf, sum string, st []StageStats) {
		p := New(Options{QueueLen: 1, Inline: inline})
		alive := &atomic.Bool{}
		src := AddSource[num](p, "source", lockedSource{countSource{n: 1000, size: 64, nonBlock: inline}, &srcTid, alive})
		probe = &tidOf{tids: map[int]bool{}, alive: alive}
		pr := AddStage[num, num](p, "probe", src, probe)
		d := AddStage[num, num](p, "double", pr, double{})
		AddStage[num, num](p, "sum", d, &summer{})
		var buf bytes.Buffer
		if err := p.Tap("sum", &buf, TapOptions{Lossless: true}); err != nil {
			t.Fatal(err)
		}
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return srcTid, probe, buf.String(), p.Stats()
	}
	tid, probe, sum, st := run(true)
	if len(probe.tids) != 1 || !probe.tids[tid] {
		t.Errorf("inline: stage ran on threads %v, the source on %d", probe.tids, tid)
	}
	if want := `{"n":999000}` + "\n"; sum != want {
		t.Errorf("inline: sum tap %q, want %q", sum, want)
	}
	for i, w := range []StageStats{{Name: "source", In: 1000, Out: 1000}, {Name: "probe", In: 1000, Out: 1000}, {Name: "double", In: 1000, Out: 1000}, {Name: "sum", In: 1000, Out: 1}} {
		if g := st[i]; g.Name != w.Name || g.In != w.In || g.Out != w.Out || g.Dropped != 0 {
			t.Errorf("inline: stats[%d] = %+v, want %+v", i, g, w)
		}
	}
	if tid, probe, _, _ := run(false); probe.tids[tid] || len(probe.tids) == 0 {
		t.Errorf("queued: the stage ran on threads %v while the source ran, the source on %d", probe.tids, tid)
	}
}

// TestInlineRealTime: inline with RealTime runs every stage on the
// source's SCHED_FIFO thread: one real-time thread for the whole path.
func TestInlineRealTime(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SCHED_FIFO needs root (CAP_SYS_NICE)")
	}
	p := New(Options{RealTime: 3, Inline: true})
	src := AddSource[num](p, "src", countSource{n: 10, size: 3})
	pol := &policyOf{}
	AddStage[num, num](p, "probe", src, pol)
	err := p.Run(context.Background())
	if errors.Is(err, ErrRealTime) {
		t.Skipf("the kernel refused SCHED_FIFO here: %v", err)
	}
	if err != nil || pol.policy != unix.SCHED_FIFO || pol.prio != 3 {
		t.Errorf("inline stage ran under policy %d priority %d (err %v), want SCHED_FIFO 3", pol.policy, pol.prio, err)
	}
}

// TestInlineConnectTwice: a stage feeds one consumer inline too.
func TestInlineConnectTwice(t *testing.T) {
	p := New(Options{Inline: true})
	src := AddSource[num](p, "src", countSource{n: 1, size: 1})
	AddStage[num, num](p, "a", src, double{})
	AddStage[num, num](p, "b", src, double{})
	if err := p.Run(context.Background()); err == nil {
		t.Error("two inline consumers of one stage ran")
	}
}
