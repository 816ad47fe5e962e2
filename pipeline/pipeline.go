package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
	"github.com/sourcegraph/conc/pool"
)

// Sentinel errors returned while building or running a pipeline.
var (
	ErrUnknownStage   = errors.New("unknown stage")
	ErrDuplicateStage = errors.New("duplicate stage name")
	ErrStarted        = errors.New("pipeline already started")
	ErrNoSource       = errors.New("pipeline has no source")
)

// Options configure a pipeline.
type Options struct {
	// QueueLen is the capacity, in batches, of every queue between two
	// stages. Default 16.
	QueueLen int
	// Metrics receives the per-stage metrics. If nil, the pipeline makes
	// its own set, available from Metrics.
	Metrics *metrics.Set
	// RealTime, when positive, runs every stage (the source included) on
	// an OS thread of its own under SCHED_FIFO at this priority (1 to
	// MaxRealTime), so that a window goes from the ring to its write
	// without waiting behind other runnable tasks (docs/performance.md,
	// condition to actuation latency). Run fails with ErrRealTime when the
	// kernel refuses it. Taps and the Go runtime's own threads stay as
	// they are.
	RealTime int
	// Inline runs every stage after the source on the source's goroutine:
	// the source's send calls the next stage's Process, which calls the
	// next, down to the last stage, with no queue and no goroutine hand-off
	// between them. A window then goes from the ring to its write on one
	// thread (with RealTime, one SCHED_FIFO thread) instead of waking a
	// goroutine per stage, each needing a P and a CPU on a loaded host
	// (issue 16, user-space reaction). The price is pipelining: the source
	// reads nothing while the stages work, and TrySend never drops (the
	// ring holds what comes meanwhile). QueueLen is then unused.
	Inline bool
	// MaxQueuedBytes, when positive, bounds the bytes of the batches
	// waiting in all the pipeline's queues: TrySend (the live source's
	// send) drops a batch that would take them over it, and counts it.
	// QueueLen bounds batches, not bytes: 64 live source batches are
	// 36 MiB, which an RSS goal cannot hold (issue 16, memory bound).
	// Send, which waits, is bounded by QueueLen alone.
	MaxQueuedBytes int64
}

// Processor is a stage's work: it appends the outputs for one input batch to
// out and returns the extended slice. It must not keep in or out.
type Processor[In, Out any] interface {
	Process(in []In, out []Out) []Out
}

// Flusher is implemented by processors that hold items back (windows, for
// example); Flush is called once after the last input batch.
type Flusher[Out any] interface {
	Flush(out []Out) []Out
}

// Source produces the pipeline's items until its input ends or ctx is done.
type Source[T any] interface {
	Run(ctx context.Context, out *Emitter[T]) error
}

// SourceFunc adapts a function to Source.
type SourceFunc[T any] func(ctx context.Context, out *Emitter[T]) error

// Run calls f.
func (f SourceFunc[T]) Run(ctx context.Context, out *Emitter[T]) error { return f(ctx, out) }

// Pipeline is a chain of stages. Build it with AddSource and AddStage, then
// call Run once.
type Pipeline struct {
	opts   Options
	set    *metrics.Set
	nodes  []node
	byName map[string]node

	mu      sync.Mutex
	started bool

	queued atomic.Int64 // bytes of the batches in the queues
}

// QueuedBytes returns the bytes of the batches waiting in the queues.
func (p *Pipeline) QueuedBytes() int64 { return p.queued.Load() }

// New returns an empty pipeline.
func New(opts Options) *Pipeline {
	if opts.QueueLen <= 0 {
		opts.QueueLen = 16
	}
	set := opts.Metrics
	if set == nil {
		set = metrics.NewSet()
	}
	p := &Pipeline{opts: opts, set: set, byName: map[string]node{}}
	set.GetOrCreateGauge("ainka_pipeline_queued_bytes", func() float64 { return float64(p.queued.Load()) })
	return p
}

// Metrics returns the set holding the pipeline's metrics.
func (p *Pipeline) Metrics() *metrics.Set { return p.set }

// Stages returns the stage names in the order they were added.
func (p *Pipeline) Stages() []string {
	out := make([]string, len(p.nodes))
	for i, n := range p.nodes {
		out[i] = n.name()
	}
	return out
}

// Output is the typed handle of a stage's output, used to connect the next
// stage to it.
type Output[T any] struct{ n *stage[T] }

// Name returns the stage's name.
func (o Output[T]) Name() string { return o.n.stageName }

// Option customises a stage whose output items are of type T.
type Option[T any] func(*stage[T])

// Encoder sets how tapped items are written as JSON. Without it, items whose
// pointer type has an AppendJSON(dst []byte) []byte method use it.
func Encoder[T any](enc func(dst []byte, item *T) []byte) Option[T] {
	return func(s *stage[T]) { s.encode = enc }
}

// AddSource declares the pipeline's source stage.
func AddSource[T any](p *Pipeline, name string, src Source[T], opts ...Option[T]) Output[T] {
	s := newStage[T](p, name, opts)
	s.runFn = func(ctx context.Context) error {
		err := src.Run(ctx, &Emitter[T]{s: s})
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			err = nil // asked to stop: not a failure
		}
		return err
	}
	p.add(s)
	return Output[T]{n: s}
}

// AddStage declares a stage that reads in's output and runs proc on it.
func AddStage[In, Out any](p *Pipeline, name string, in Output[In], proc Processor[In, Out], opts ...Option[Out]) Output[Out] {
	s := newStage[Out](p, name, opts)
	if p.opts.Inline {
		addInline(in.n, s, proc)
		p.add(s)
		return Output[Out]{n: s}
	}
	q := in.n.connect(name)
	s.runFn = func(context.Context) error {
		// A stage ignores cancellation: it drains its input until the
		// stage before it closes the queue, so nothing in flight is lost.
		for b := range q.ch {
			p.queued.Add(-b.bytes())
			process(s, proc, b)
		}
		flush(s, proc)
		return nil
	}
	p.add(s)
	return Output[Out]{n: s}
}

func (p *Pipeline) add(n node) {
	p.nodes = append(p.nodes, n)
	if _, dup := p.byName[n.name()]; dup {
		n.setErr(fmt.Errorf("add stage %q: %w", n.name(), ErrDuplicateStage))
		return
	}
	p.byName[n.name()] = n
}

// TapOptions configure a tap.
type TapOptions struct {
	// Lossless makes the stage wait for the tap instead of dropping; use it
	// for replays, where determinism matters more than latency.
	Lossless bool
	// Buffer is the number of batches the tap may hold. Default 64.
	Buffer int
}

// Tap writes every output item of the named stage to w as one JSON object
// per line. It must be called before Run.
func (p *Pipeline) Tap(stage string, w io.Writer, opts TapOptions) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return ErrStarted
	}
	n, ok := p.byName[stage]
	if !ok {
		return fmt.Errorf("tap %q: %w (stages: %v)", stage, ErrUnknownStage, p.Stages())
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 64
	}
	return n.addTap(w, opts)
}

// Run validates the pipeline, runs every stage and returns when all have
// finished: after the source returns (its input ended, or ctx was
// cancelled) and every queued batch has gone through. It returns the first
// error of any stage or tap.
func (p *Pipeline) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.started {
		p.mu.Unlock()
		return ErrStarted
	}
	p.started = true
	p.mu.Unlock()

	if err := p.validate(); err != nil {
		return err
	}
	wp := pool.New().WithErrors()
	for _, n := range p.nodes {
		n.start(ctx, wp)
	}
	return wp.Wait()
}

func (p *Pipeline) validate() error {
	if len(p.nodes) == 0 {
		return ErrNoSource
	}
	var errs []error
	for _, n := range p.nodes {
		if err := n.err(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// StageStats is a snapshot of one stage's counters.
type StageStats struct {
	Name       string  `json:"name"`
	In         uint64  `json:"in"`
	Out        uint64  `json:"out"`
	Dropped    uint64  `json:"dropped"`
	TapDropped uint64  `json:"tap_dropped"`
	QueueLen   int     `json:"queue_len"`
	QueueCap   int     `json:"queue_cap"`
	BusySec    float64 `json:"busy_seconds"`
}

// Stats returns a snapshot of every stage's counters, in pipeline order.
// It is safe to call while the pipeline runs.
func (p *Pipeline) Stats() []StageStats {
	out := make([]StageStats, 0, len(p.nodes))
	for _, n := range p.nodes {
		out = append(out, n.stats())
	}
	return out
}
