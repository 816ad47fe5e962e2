package tune

import (
	"fmt"
	"math"

	"github.com/ainka/ainka/stages/decode"
)

// Class is what the classifier makes of an entity.
type Class uint8

const (
	Unknown       Class = iota
	Batch               // long CPU-bound runs, preempted rather than blocking
	Latency             // short runs, frequent wakeups, blocks voluntarily
	Sequential          // a device read in continuing requests
	Random              // a device read at scattered sectors
	Lossy               // a network namespace whose TCP retransmits ≥ 1 % of its segments
	Clean               // one that retransmits under 0.1 %
	BufferLimited       // a network namespace whose TCP rate × RTT nears its buffer limit
)

var classNames = [...]string{"unknown", "batch", "latency-sensitive", "sequential", "random", "lossy", "clean", "buffer-limited"}

func (c Class) String() string { return classNames[c] }

// minConfidence is the confidence below which no tuner acts on a class.
const minConfidence = 0.6

func clamp01(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return math.Max(0, math.Min(1, x))
}

// warm discounts a verdict drawn from few windows.
func warm(windows, need int) float64 { return math.Min(1, float64(windows)/float64(need)) }

// classifyTask scores batch and latency-sensitive CPU work, each the mean
// of a few memberships in [0, 1], and returns the winning class with its
// score (times warm-up) as the confidence. A class needs a score of 0.6
// and a margin of 0.15 over the other; otherwise Unknown.
func classifyTask(e *taskEnt) (Class, float64) {
	c, score := classifyTaskRaw(e)
	return c, score * warm(e.windows, 10)
}

// classifyTaskRaw is classifyTask without the warm-up discount.
func classifyTaskRaw(e *taskEnt) (Class, float64) {
	sw := e.volPerS + e.involPerS
	invol := 0.5
	if sw > 0 {
		invol = e.involPerS / sw
	}
	runMs := e.meanRunUs / 1e3
	batch := (clamp01(e.cpuShare/0.7) + clamp01(math.Log10(runMs/0.2)) + clamp01((invol-0.2)/0.6)) / 3
	lat := (clamp01(1-e.cpuShare/0.4) + clamp01(1-math.Log10(e.meanRunUs/50)/1.3) +
		clamp01((0.8-invol)/0.6) + clamp01(e.wakeupsPerS/200)) / 4
	switch {
	case batch >= 0.6 && batch-lat >= 0.15:
		return Batch, batch
	case lat >= 0.6 && lat-batch >= 0.15:
		return Latency, lat
	}
	return Unknown, math.Max(batch, lat)
}

// explainTask is the features behind a task's class, for a person.
func explainTask(e *taskEnt) string {
	sw := e.volPerS + e.involPerS
	invol := 0.0
	if sw > 0 {
		invol = 100 * e.involPerS / sw
	}
	return fmt.Sprintf("%s pid %d: %.2f CPU, runs %.2f ms, %.0f%% preempted, %.0f wakeups/s, waits %.0f µs to run",
		decode.CommString(&e.comm), e.pid, e.cpuShare, e.meanRunUs/1e3, invol, e.wakeupsPerS, e.runqUs)
}

// classifyDevice tells sequential from random readers by the share of
// requests that continued the previous one. Devices mostly written, or
// with fewer than 20 requests/s, are Unknown.
func classifyDevice(e *devEnt) (Class, float64) {
	if e.readPct < 50 || e.iops < 20 {
		return Unknown, 0
	}
	w := warm(e.windows, 5)
	switch {
	case e.seqRatio >= 0.6:
		return Sequential, (0.6 + 0.4*clamp01((e.seqRatio-0.6)/0.3)) * w
	case e.seqRatio <= 0.3:
		return Random, (0.6 + 0.4*clamp01((0.3-e.seqRatio)/0.25)) * w
	}
	return Unknown, 0.5 * w
}

func explainDevice(e *devEnt, name string) string {
	return fmt.Sprintf("%s: %.0f%% of requests continue the previous one, %.0f IOPS, %.1f MB/s read, %.0f µs per request",
		name, 100*e.seqRatio, e.iops, e.readBps/1e6, e.latUs)
}
