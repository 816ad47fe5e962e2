package settings

import (
	"time"

	"github.com/ainka/ainka/trace"
)

// DefaultInterval is the collection interval when nothing sets one: the
// aggregation window's length and the host sampling period.
const DefaultInterval = 100 * time.Millisecond

// liveLateness is how long a live window stays open past its end. Live,
// the ring delivers records in reservation order, microseconds apart
// across CPUs: a window can close 2 ms after its end rather than the
// replay default of half an interval, which is 50 ms off every decision.
const liveLateness = 2 * time.Millisecond

// liveHostPhase is how long past each window's end a live host sample is
// taken. The source empties the ring first, so the sample is a watermark
// that closes the window (aggregate.Config.HostWatermark): the phase only
// has to put its timestamp past the end, and is all the wait a window
// has before it closes.
const liveHostPhase = 100 * time.Microsecond

// minLiveLatenessInterval is the shortest interval that gets liveLateness;
// below it the lateness default (half the interval) stays.
const minLiveLatenessInterval = 8 * time.Millisecond

// Settings are the pipeline's timing and capture settings, resolved once.
type Settings struct {
	// Interval is the collection interval: window length and host
	// sampling period. 0 = DefaultInterval.
	Interval time.Duration
	// Lateness is how long past its end a window waits for out-of-order
	// events; 0 = half the interval (aggregate's default).
	Lateness time.Duration
	// HostPhase, when positive, takes each host sample this long past the
	// end of a window, so that its timestamp closes the window at once (a
	// watermark: aggregate.Config.HostWatermark).
	HostPhase time.Duration
	// Kinds says how each record kind was captured (trace header or the
	// live policy); aggregate carries it to features.
	Kinds []trace.KindConfig
	// BootOffsetNs is wall clock minus event time: predict's time-of-week
	// baselines need it; 0 = unknown.
	BootOffsetNs int64
}

// FromHeader resolves the settings a trace was recorded with; a replay
// runs with exactly these.
func FromHeader(h trace.Header) Settings {
	return Settings{
		Interval:     time.Duration(h.CollectionIntervalMs) * time.Millisecond,
		Kinds:        h.Kinds,
		BootOffsetNs: max(h.BootOffsetNs, 0),
	}
}

// Live resolves the timing of a live capture at interval: a short
// lateness, and host samples taken just past it (after draining the ring)
// so that their timestamps close windows at once.
func Live(interval time.Duration) Settings {
	s := Settings{Interval: interval}
	if s.Interval == 0 {
		s.Interval = DefaultInterval
	}
	if s.Interval >= minLiveLatenessInterval {
		s.Lateness = liveLateness
		s.HostPhase = liveHostPhase
	}
	return s
}

// IntervalOrDefault is Interval, or DefaultInterval when unset.
func (s Settings) IntervalOrDefault() time.Duration {
	if s.Interval <= 0 {
		return DefaultInterval
	}
	return s.Interval
}
