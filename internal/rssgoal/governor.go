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

// The binary's pages are dropped (DropBinaryPages) at start, dropAfter
// the start, once the daemon has run its startup code, and every dropEvery when
// fault-around has brought back at least regrowth: each drop costs a
// minor fault per 64 KiB of code the daemon still runs, so not often.
const (
	dropAfter = 10 * time.Second
	dropEvery = time.Minute
	regrowth  = 1 << 20
	settle    = 5 * time.Second
)

// Governor keeps the Go memory limit at what Derive gives for the current
// fixed part.
type Governor struct {
	goal, ring int64
	read       func() (Usage, error)
	set        func(int64) int64 // debug.SetMemoryLimit
	drop       func() (int64, error)
	log        *slog.Logger
	now        func() time.Time

	nextDrop  time.Time
	afterDrop int64 // the fixed part after the last drop
	hold      int64 // the fixed part before it, counted until holdUntil
	holdUntil time.Time

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
	g := &Governor{goal: goal, ring: ring, read: ReadSelf, set: debug.SetMemoryLimit, drop: DropBinaryPages, log: log, now: time.Now}
	if err := g.start(Period); err != nil {
		return nil, err
	}
	return g, nil
}

// start drops the binary's pages and refuses a goal that cannot hold even
// what is left (a process that ran much code, like a test binary, would
// otherwise count pages the next drop gives back); the first limit still
// counts the pages from before the drop until they have had time to
// fault back (settle). Then the loop starts.
func (g *Governor) start(every time.Duration) error {
	before, err := g.read()
	if err != nil {
		return err
	}
	u := g.dropNow(before)
	if _, err := Derive(g.goal, g.ring, u); err != nil {
		return err
	}
	p, err := Derive(g.goal, g.ring, g.held(u))
	if err != nil {
		p.Limit = Floor // the pages before the drop did not fit: they will not all come back
	}
	g.stop = make(chan struct{})
	g.nextDrop = g.now().Add(dropAfter)
	g.prev = g.set(p.Limit)
	g.limit.Store(p.Limit)
	g.log.Info("memory: " + p.String())
	g.done.Add(1)
	go g.loop(every)
	return nil
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
	u = g.held(g.dropPages(u))
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

// dropPages drops the binary's pages when it is time and they grew back,
// and returns the usage measured after.
func (g *Governor) dropPages(u Usage) Usage {
	if g.drop == nil || g.now().Before(g.nextDrop) || u.Fixed < g.afterDrop+regrowth {
		return u
	}
	g.nextDrop = g.now().Add(dropEvery)
	return g.dropNow(u)
}

// dropNow drops the binary's pages, holds the fixed part from before for
// settle, and returns the usage measured after (u when it cannot).
func (g *Governor) dropNow(u Usage) Usage {
	if g.drop == nil {
		return u
	}
	if _, err := g.drop(); err != nil {
		g.log.Warn("memory: " + err.Error())
		g.drop = nil // the same error every minute says nothing new
		return u
	}
	after, err := g.read()
	if err != nil {
		return u
	}
	g.afterDrop = after.Fixed
	g.hold, g.holdUntil = u.Fixed, g.now().Add(settle)
	g.log.Debug("memory: binary pages dropped", "fixed_mib_before", u.Fixed>>20, "fixed_mib_after", after.Fixed>>20)
	return after
}

// held is u with the fixed part from before the last drop while that
// drop settles: the code the daemon runs faults back within a second or
// two, and a limit raised by the whole drop meanwhile would let the heap
// take what those pages are about to need.
func (g *Governor) held(u Usage) Usage {
	if g.now().Before(g.holdUntil) {
		u.Fixed = max(u.Fixed, g.hold)
	}
	return u
}
