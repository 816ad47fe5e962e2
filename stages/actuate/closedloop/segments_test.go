package closedloop

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
)

// stamps are CLOCK_MONOTONIC times of each window (by its end, event
// time) on its way to a decision: closed by the aggregator, taken by
// decide, and decided.
type stamps struct {
	mu                          sync.Mutex
	closed, decideIn, decideOut map[uint64]uint64
}

func newStamps() *stamps {
	return &stamps{closed: map[uint64]uint64{}, decideIn: map[uint64]uint64{}, decideOut: map[uint64]uint64{}}
}

func (s *stamps) mark(m map[uint64]uint64, end, now uint64) {
	s.mu.Lock()
	m[end] = now
	s.mu.Unlock()
}

// segmentNames are the parts of the time from the end of the window that
// made a condition true to the completed write, in order.
var segmentNames = []string{"window end -> closed", "closed -> decide", "decide", "decide -> actuate", "journal", "write"}

// segments splits one applied change's latency (µs); ok is false when a
// stamp is missing (a window of the start-up backlog).
func (s *stamps) segments(r actuate.Result) ([]float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, in, out := s.closed[r.TimeNs], s.decideIn[r.TimeNs], s.decideOut[r.TimeNs]
	if c == 0 || in == 0 || out == 0 || r.JournaledNs == 0 {
		return nil, false
	}
	t := []uint64{r.TimeNs, c, in, out, r.ReceivedNs, r.JournaledNs, r.AppliedNs}
	seg := make([]float64, len(t)-1)
	for i := range seg {
		seg[i] = (float64(t[i+1]) - float64(t[i])) / 1e3
	}
	return seg, true
}

// breakdown collects the segments of every applied change.
type breakdown struct{ seg [][]float64 } // seg[i]: segment i of every change

func (b *breakdown) add(s *stamps, res []actuate.Result) {
	if b.seg == nil {
		b.seg = make([][]float64, len(segmentNames))
	}
	for _, r := range res {
		if r.Status != actuate.Applied || r.Kind != decide.Apply {
			continue
		}
		if seg, ok := s.segments(r); ok {
			for i, x := range seg {
				b.seg[i] = append(b.seg[i], x)
			}
		}
	}
}

func (b *breakdown) String() string {
	var sb strings.Builder
	for i, name := range segmentNames {
		if b.seg == nil {
			break
		}
		xs := b.seg[i]
		fmt.Fprintf(&sb, "\n  %-22s p50 %7.0f  p99 %7.0f  p99.9 %7.0f  (n=%d)", name, pct(xs, .5), pct(xs, .99), pct(xs, .999), len(xs))
	}
	return sb.String()
}

func loadavg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gcs are the Go runtime's collection counters.
type gcs struct {
	n     uint32
	pause time.Duration
	ms    runtime.MemStats
}

func gcStats() gcs {
	var g gcs
	runtime.ReadMemStats(&g.ms)
	g.n, g.pause = g.ms.NumGC, time.Duration(g.ms.PauseTotalNs)
	return g
}

// since says how many collections ran after g0, their total and longest
// stop-the-world pause (of the last 256).
func (g gcs) since(g0 gcs) string {
	n := g.n - g0.n
	var longest uint64
	for i := uint32(0); i < min(n, 256); i++ {
		longest = max(longest, g.ms.PauseNs[(g.n-1-i)%256])
	}
	return fmt.Sprintf("%d collections, stop-the-world %v in all, longest %v; %.1f MB allocated, heap %.1f MB", n, g.pause-g0.pause, time.Duration(longest),
		float64(g.ms.TotalAlloc-g0.ms.TotalAlloc)/1e6, float64(g.ms.HeapAlloc)/1e6)
}
