package pipeline

import (
	"context"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// policyOf records the scheduling policy of the thread that runs Process.
type policyOf struct{ policy, prio uint32 }

func (p *policyOf) Process(in []num, out []num) []num {
	if a, err := unix.SchedGetAttr(0, 0); err == nil {
		p.policy, p.prio = a.Policy, a.Priority
	}
	return append(out, in...)
}

// TestRealTime: with Options.RealTime every stage runs on a SCHED_FIFO
// thread at that priority; a priority out of range, or one the kernel
// refuses, fails Run with ErrRealTime.
func TestRealTime(t *testing.T) {
	run := func(prio int) (*policyOf, error) {
		p := New(Options{RealTime: prio})
		src := AddSource[num](p, "src", countSource{n: 10, size: 3})
		pol := &policyOf{}
		AddStage[num, num](p, "probe", src, pol)
		return pol, p.Run(context.Background())
	}
	if _, err := run(MaxRealTime + 1); !errors.Is(err, ErrRealTime) {
		t.Errorf("priority %d: err %v, want ErrRealTime", MaxRealTime+1, err)
	}
	if os.Geteuid() != 0 {
		t.Skip("SCHED_FIFO needs root (CAP_SYS_NICE)")
	}
	pol, err := run(3)
	if errors.Is(err, ErrRealTime) {
		t.Skipf("the kernel refused SCHED_FIFO here: %v", err)
	}
	if err != nil || pol.policy != unix.SCHED_FIFO || pol.prio != 3 {
		t.Errorf("stage ran under policy %d priority %d (err %v), want SCHED_FIFO 3", pol.policy, pol.prio, err)
	}
	if pol, err := run(0); err != nil || pol.policy == unix.SCHED_FIFO {
		t.Errorf("without RealTime: policy %d, err %v", pol.policy, err)
	}
}
