package view

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/tune"
)

// keep is how many recent decisions and changes a snapshot carries.
const keep = 8

// RingStats is the kernel-side and source-side loss of one event kind.
type RingStats struct {
	Kind    string
	Lost    uint64 // the eBPF ring buffer was full
	Dropped uint64 // the source's queue was full
}

// Sources are where a Recorder reads what its observers do not see. Every
// function must be safe to call from another goroutine; nil ones are
// left out of the snapshot. Log and Ring may be given later (Watch).
type Sources struct {
	Mode     string // live or replay
	DryRun   bool
	Pipeline *pipeline.Pipeline // stage counters and ainka_events_total
	// Probes are the probe plugin kinds' names: their events, losses and
	// drops are shown after the built-in kinds' (and always, so that a
	// plugin that sees nothing says so).
	Probes []string
	// ProbeNames, when set, replaces Probes: the kinds of now (a reload
	// may add or remove plugins).
	ProbeNames func() []string
	Ring       func() []RingStats   // live only
	Engine     func() decide.Status // the decide stage's State
	Knobs      func() []actuate.Change
	Regime     func() string
	Tuners     func() tune.Status
	Policies   func() []decide.PolicyStatus
	Log        func() []string // recent warnings, newest last
	// RingFill is the ring buffer's peak fill (0..1) since the previous
	// call (live only; Tick calls it once a tick).
	RingFill func() float64
}

// Recorder keeps what a Snapshot shows. Its Observe* methods run on the
// stages' goroutines; Tick and Snapshot on any other.
type Recorder struct {
	src     Sources
	started time.Time
	running atomic.Bool // Run is ticking

	mu        sync.Mutex
	last      predict.Output
	have      bool
	windows   uint64
	values    [features.Count]series
	scores    [features.Count]series
	joint     series
	alarm     series
	decisions []Decision
	changes   []Change
	history   map[string][]Change // by knob, for Explain
	timeline  timeline
	lo, hi    [features.Count]series // forecast intervals
	horizonNs uint64

	// Rates, refreshed by Tick.
	prevAt   time.Time
	prevEv   map[string]uint64
	prevRing map[string]RingStats
	prevIn   map[string]uint64
	kinds    []KindRate
	stages   []Stage
	ringFill float64 // NaN: no ring
}

// NewRecorder returns a recorder reading src.
func NewRecorder(src Sources) *Recorder {
	r := &Recorder{src: src, started: time.Now(), joint: series{max: true}, alarm: series{max: true}, ringFill: math.NaN()}
	for i := range r.scores {
		r.scores[i].max = true
	}
	return r
}

// Watch sets the log and ring-buffer sources, which exist only once the
// daemon's logger and live source do; nil leaves one as it was.
func (r *Recorder) Watch(log func() []string, ring func() []RingStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if log != nil {
		r.src.Log = log
	}
	if ring != nil {
		r.src.Ring = ring
	}
}

// WatchFill sets the ring buffer's fill source (the live source's
// RingFill).
func (r *Recorder) WatchFill(fill func() float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.src.RingFill = fill
}

// ObservePredict records predict's outputs (Observe's fn).
func (r *Recorder) ObservePredict(outs []predict.Output) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range outs {
		o := &outs[i]
		sec := o.Vector.EndNs / uint64(time.Second)
		for f := range o.Score {
			r.values[f].add(sec, o.Vector.Values[f])
			r.scores[f].add(sec, o.Score[f])
			r.lo[f].add(sec, o.Forecast[f].Lo)
			r.hi[f].add(sec, o.Forecast[f].Hi)
		}
		r.joint.add(sec, o.Joint)
		r.alarm.add(sec, o.Alarm.Level)
		r.windows++
	}
	if len(outs) > 0 {
		r.last, r.have = outs[len(outs)-1], true
		r.horizonNs = r.last.HorizonNs
	}
}

// ObserveDecisions records decide's outputs.
func (r *Recorder) ObserveDecisions(ds []decide.Decision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range ds {
		d := &ds[i]
		v := Decision{TimeNs: d.TimeNs, Kind: d.Kind.String(), Policy: d.Policy, Why: decisionWhy(d)}
		if d.Kind != decide.StateChange {
			v.Action = d.Action.String()
		}
		r.decisions = appendKeep(r.decisions, v)
		r.timeline.add(Event{TimeNs: v.TimeNs, Type: "decision", Kind: v.Kind, Policy: v.Policy, Action: v.Action, Why: v.Why})
	}
}

// ObserveResults records actuate's outputs, except the bookkeeping ones
// (effect measurements, state mirrored to the module, no-op writes).
func (r *Recorder) ObserveResults(rs []actuate.Result) {
	gains := r.tunerGains(rs) // before r.mu: it takes tune's lock
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range rs {
		x := &rs[i]
		switch x.Status {
		case actuate.Measured, actuate.Mirrored, actuate.Unchanged:
			continue
		}
		why := x.Why
		if x.Err != "" {
			why = x.Err
		} else if x.Clamped != "" {
			why += " (" + x.Clamped + ")"
		}
		c := Change{TimeNs: x.TimeNs, Status: x.Status.String(), Policy: x.Policy, Knob: x.Knob, Old: x.Old, New: x.New, Why: why}
		if x.Status == actuate.Applied || x.Status == actuate.DryRun {
			c.Gain = gains[x.Policy]
		}
		r.changes = appendKeep(r.changes, c)
		r.timeline.add(Event{TimeNs: c.TimeNs, Type: "change", Kind: c.Status, Policy: c.Policy, Knob: c.Knob, Old: c.Old,
			New: c.New, Why: c.Why, Gain: c.Gain})
		r.remember(c)
	}
}

// Reset forgets the history (ainka-cli reset): scores start afresh.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.values {
		r.values[i].reset()
		r.scores[i].reset()
		r.lo[i].reset()
		r.hi[i].reset()
	}
	r.joint.reset()
	r.alarm.reset()
}

func appendKeep[T any](s []T, v T) []T {
	s = append(s, v)
	if len(s) > keep {
		s = append(s[:0], s[len(s)-keep:]...)
	}
	return s
}

// decisionWhy is a decision's reason in one line: the condition with the
// values that made it true, or the engine's own words.
func decisionWhy(d *decide.Decision) string {
	switch {
	case d.Kind == decide.Effect:
		return fmt.Sprintf("%s %.4g → %.4g (score %+.2f, effectiveness %.2f)", d.Objective, d.Before, d.After,
			d.Score, d.Effectiveness)
	case d.Kind == decide.StateChange:
		return "→ " + d.State.String() + ": " + d.Reason
	case d.Reason != "":
		return d.Reason
	}
	return d.Explain()
}

// Run calls Tick every interval until ctx ends; a second Run while one
// ticks returns at once.
func (r *Recorder) Run(ctx context.Context, interval time.Duration) {
	if !r.running.CompareAndSwap(false, true) {
		return // one ticker: two would halve the rates' intervals
	}
	defer r.running.Store(false)
	t := time.NewTicker(interval)
	defer t.Stop()
	r.Tick(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.Tick(now)
		}
	}
}

// kindNames are the built-in kinds' names, then the probe plugins'.
func (r *Recorder) kindNames() []string {
	probes := r.src.Probes
	if r.src.ProbeNames != nil {
		probes = r.src.ProbeNames()
	}
	names := make([]string, 0, int(decode.NumKinds)-1+len(probes))
	for k := decode.Kind(1); k < decode.NumKinds; k++ {
		names = append(names, k.String())
	}
	return append(names, probes...)
}

// Tick turns the cumulative counters into rates since the previous Tick.
func (r *Recorder) Tick(now time.Time) {
	names := r.kindNames()
	ev := map[string]uint64{}
	var st []pipeline.StageStats
	if p := r.src.Pipeline; p != nil {
		for _, name := range names {
			ev[name] = p.Metrics().GetOrCreateCounter(fmt.Sprintf(`ainka_events_total{kind=%q}`, name)).Get()
		}
		st = p.Stats()
	}
	r.mu.Lock()
	ringFn, fillFn := r.src.Ring, r.src.RingFill
	r.mu.Unlock()
	fill := math.NaN()
	if fillFn != nil {
		fill = fillFn()
	}
	ring := map[string]RingStats{}
	if ringFn != nil {
		for _, rs := range ringFn() {
			ring[rs.Kind] = rs
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	dt := now.Sub(r.prevAt).Seconds()
	if r.prevAt.IsZero() || dt <= 0 {
		dt = math.NaN() // no rate before the second tick
	}
	rate := func(cur, prev uint64) Num {
		if cur < prev {
			return 0
		}
		return Num(float64(cur-prev) / dt)
	}
	r.kinds = r.kinds[:0]
	for i, name := range names {
		rs, pr := ring[name], r.prevRing[name]
		if i < int(decode.NumKinds)-1 && ev[name] == 0 && rs.Lost == 0 && rs.Dropped == 0 {
			continue
		}
		r.kinds = append(r.kinds, KindRate{Kind: name, PerSec: rate(ev[name], r.prevEv[name]), Total: ev[name],
			Lost: rs.Lost, LostPerSec: rate(rs.Lost, pr.Lost), Dropped: rs.Dropped,
			DropsPerSec: rate(rs.Dropped, pr.Dropped)})
	}
	in := map[string]uint64{}
	r.stages = r.stages[:0]
	for _, s := range st {
		in[s.Name] = s.In
		fill := 0.0
		if s.QueueCap > 0 {
			fill = float64(s.QueueLen) / float64(s.QueueCap)
		}
		r.stages = append(r.stages, Stage{Name: s.Name, InPerSec: rate(s.In, r.prevIn[s.Name]),
			Dropped: s.Dropped + s.TapDropped, Fill: fill})
	}
	r.prevAt, r.prevEv, r.prevRing, r.prevIn, r.ringFill = now, ev, ring, in, fill
}

// Snapshot returns what the daemon sees, thinks and changes now.
func (r *Recorder) Snapshot() Snapshot {
	now := time.Now()
	s := Snapshot{At: now, Mode: r.src.Mode, Uptime: now.Sub(r.started).Seconds(), DryRun: r.src.DryRun}
	if r.src.Engine != nil {
		e := r.src.Engine()
		s.Engine = Engine{State: e.State, SinceNs: e.SinceNs, Emergency: e.Emergency, Policies: e.Policies,
			Decisions: e.Decisions, ReloadError: e.LastReloadError}
	}
	if r.src.Regime != nil {
		s.Regime = r.src.Regime()
	}
	r.tunersAndPolicies(&s)
	if r.src.Knobs != nil {
		for _, c := range r.src.Knobs() {
			s.Knobs = append(s.Knobs, Knob{Knob: c.Key, Original: c.Original, Value: c.Value, Policy: c.Policy,
				Why: c.Why, Since: c.Since})
		}
	}
	r.mu.Lock()
	logFn := r.src.Log
	r.mu.Unlock()
	if logFn != nil {
		s.Log = logFn()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s.Windows = r.windows
	s.Kinds = append([]KindRate(nil), r.kinds...)
	s.Stages = append([]Stage(nil), r.stages...)
	s.RingFill = Num(r.ringFill)
	s.Decisions = append([]Decision(nil), r.decisions...)
	s.Changes = append([]Change(nil), r.changes...)
	s.Joint, s.Alarm = Num(math.NaN()), Num(math.NaN())
	if r.have {
		s.EventTimeNs = r.last.Vector.EndNs
		s.HorizonNs = r.horizonNs
		s.Joint = Num(r.last.Joint)
		s.JointHist = r.joint.points()
		s.Alarm, s.AlarmHist = Num(r.last.Alarm.Level), r.alarm.points()
		s.AlarmDrivers, s.AlarmWhy = r.last.Alarm.Names(), r.last.Why()
		s.Features = r.features()
	}
	return s
}

// features lists every feature, the most anomalous first: highest score
// over the sparkline's span, then the current score, then by name.
func (r *Recorder) features() []Feature {
	out := make([]Feature, 0, features.Count)
	for i := features.ID(0); i < features.Count; i++ {
		fc := r.last.Forecast[i]
		sc := r.scores[i].points()
		b := boundsOf(i.String())
		out = append(out, Feature{Name: i.String(), Value: Num(r.last.Vector.Values[i]), Score: Num(r.last.Score[i]),
			MaxScore: maxOf(sc), Forecast: b.clamp(fc.Value), Lo: b.clamp(fc.Lo), Hi: b.clamp(fc.Hi),
			History: r.values[i].points(), Scores: sc, LoHist: b.clampAll(r.lo[i].points()),
			HiHist: b.clampAll(r.hi[i].points())})
	}
	key := func(n Num) float64 {
		if !n.Valid() {
			return -1
		}
		return float64(n)
	}
	sort.SliceStable(out, func(a, b int) bool {
		if ka, kb := key(out[a].MaxScore), key(out[b].MaxScore); ka != kb {
			return ka > kb
		}
		return key(out[a].Score) > key(out[b].Score)
	})
	return out
}
