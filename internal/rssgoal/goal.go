package rssgoal

import (
	"errors"
	"fmt"
)

// ErrUnreachable is returned when an RSS goal cannot hold the ring, the
// fixed part and the Go heap's floor.
var ErrUnreachable = errors.New("memory goal unreachable")

const (
	// Floor is the least Go memory limit the daemon is given: below it the
	// collector runs nearly all the time at an idle heap of 6-9 MiB with
	// its free lists, and a burst's batches do not fit.
	Floor = 12 << 20
	// Margin is kept between the goal and what the parts add up to: the Go
	// limit is soft (a burst can outrun the collector for a moment) and
	// the anonymous pages outside the runtime (the binary's written data)
	// are not in it. A 10-minute soak with bursts at a limit 1 MiB under
	// goal − 29 MiB peaked 3.1 MiB under the goal (docs/reliability.md).
	Margin = 1 << 20
)

// Plan is how a goal is shared, in bytes.
type Plan struct {
	Goal  int64 // the RSS goal: daemon.max_memory_mb
	Ring  int64 // the BPF ring: its size, or what BPF maps hold resident if more
	Fixed int64 // the binary and libraries, resident, measured
	Limit int64 // the Go memory limit: Goal − Ring − Fixed − Margin
}

// Derive shares goal between a ring of ring bytes (counted whole before it
// is mapped) and the fixed part of u, and gives the Go runtime the rest
// less Margin. It fails with ErrUnreachable, saying the goal that would
// do, when that rest is under Floor.
func Derive(goal, ring int64, u Usage) (Plan, error) {
	p := Plan{Goal: goal, Ring: max(ring, u.BPF), Fixed: u.Fixed}
	p.Limit = goal - p.Ring - p.Fixed - Margin
	if p.Limit < Floor {
		need := p.Ring + p.Fixed + Margin + Floor
		return p, fmt.Errorf("%w: max_memory_mb %d MiB must hold the ring (%s), the binary and libraries resident (%s), a margin (%s) and at least %s for the Go heap: raise max_memory_mb to %d or lower telemetry.ring_buffer_mb",
			ErrUnreachable, goal>>20, mib(p.Ring), mib(p.Fixed), mib(Margin), mib(Floor), (need+1<<20-1)>>20)
	}
	return p, nil
}

// String is the log line's account of the plan.
func (p Plan) String() string {
	return fmt.Sprintf("RSS goal %s = ring %s + binary and libraries %s + margin %s + Go memory limit %s",
		mib(p.Goal), mib(p.Ring), mib(p.Fixed), mib(Margin), mib(p.Limit))
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
