package rssgoal

import (
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Period is how often the governor measures the fixed part again: more of
// the binary becomes resident as the daemon meets new work (2-4 MiB over
// its first minute), and the limit must shrink before the heap uses it.
const Period = time.Second

// step is the least change worth a new limit: the fixed part moves by a
// few pages at a time.
const step = 256 << 10

// Governor keeps the Go memory limit at what Derive gives for the current
// fixed part.
type Governor struct {
	goal, ring int64
	read       func() (Usage, error)
	set        func(int64) int64 // debug.SetMemoryLimit
	log        *slog.Logger

	limit  atomic.Int64
	warned bool // the goal became unreachable: said once
	prev   int64
	stop   chan struct{}
	done   sync.WaitGroup
}

// Start derives the Go memory limit for an RSS goal of goal bytes and a ring
// of ring bytes from /proc/self/smaps, sets it, logs the plan and keeps it
// up to date every Period until Stop. It fails with ErrUnreachable when the
// goal is too small for the ring and the binary.
func Start(goal, ring int64, log *slog.Logger) (*Governor, error) {
	return start(goal, ring, log, ReadSelf, debug.SetMemoryLimit, Period)
}

func start(goal, ring int64, log *slog.Logger, read func() (Usage, error), set func(int64) int64, every time.Duration) (*Governor, error) {
	g := &Governor{goal: goal, ring: ring, read: read, set: set, log: log, stop: make(chan struct{})}
	u, err := read()
	if err != nil {
		return nil, err
	}
	p, err := Derive(goal, ring, u)
	if err != nil {
		return nil, err
	}
	g.prev = set(p.Limit)
	g.limit.Store(p.Limit)
	log.Info("memory: " + p.String())
	g.done.Add(1)
	go g.loop(every)
	return g, nil
}

// Limit is the Go memory limit in force, in bytes.
func (g *Governor) Limit() int64 { return g.limit.Load() }

// Stop ends the updates and restores the limit the process had before.
func (g *Governor) Stop() {
	close(g.stop)
	g.done.Wait()
	g.set(g.prev)
}

func (g *Governor) loop(every time.Duration) {
	defer g.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			g.update()
		}
	}
}

// update measures again and moves the limit when it changed by a step. A
// fixed part grown past what the goal can hold keeps the limit at Floor,
// said once: stopping a running daemon would leave its knobs to a restart.
func (g *Governor) update() {
	u, err := g.read()
	if err != nil {
		return // /proc went away under us: keep the last limit
	}
	p, err := Derive(g.goal, g.ring, u)
	if err != nil {
		if !g.warned {
			g.log.Warn("memory: "+err.Error(), "go_limit_mib", Floor>>20)
			g.warned = true
		}
		p.Limit = Floor
	}
	if d := p.Limit - g.limit.Load(); d >= step || d <= -step {
		g.set(p.Limit)
		g.limit.Store(p.Limit)
		g.log.Debug("memory: " + p.String())
	}
}
