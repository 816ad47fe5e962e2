package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/sourcegraph/conc/pool"
)

// batchBuckets are the upper bounds of ainka_stage_batch_duration_seconds:
// 1 µs to 4 s, doubling. Prometheus' le buckets (VictoriaMetrics reads
// them too), so histogram_quantile works on them.
var batchBuckets = metrics.ExponentialBuckets(1e-6, 2, 23)

// node is the untyped view of a stage that the pipeline drives.
type node interface {
	name() string
	err() error
	setErr(error)
	addTap(w io.Writer, opts TapOptions) error
	start(ctx context.Context, wp *pool.ErrorPool)
	stats() StageStats
}

// jsonAppender is implemented by item types that can write themselves as
// one JSON object, for taps.
type jsonAppender interface{ AppendJSON(dst []byte) []byte }

// queue is the named, bounded channel between a stage and its consumer.
type queue[T any] struct {
	name string
	ch   chan *Batch[T]
}

// stage is one stage's output side, typed by its output items.
type stage[T any] struct {
	p         *Pipeline
	stageName string
	runFn     func(ctx context.Context) error
	buildErr  error

	out *queue[T] // nil until a consumer connects
	// next and end are the consumer run inline (Options.Inline): next
	// processes a batch on the caller's goroutine, end flushes it.
	next   func(b *Batch[T])
	end    func()
	inline bool // this stage runs on its producer's goroutine
	free   *freeList[T]
	taps   []*tap[T]
	encode func(dst []byte, item *T) []byte

	in, outN, dropped, tapDropped *metrics.Counter
	busy                          *metrics.FloatCounter
	batchDur                      *metrics.PrometheusHistogram
}

func newStage[T any](p *Pipeline, name string, opts []Option[T]) *stage[T] {
	l := fmt.Sprintf(`{stage=%q}`, name)
	s := &stage[T]{
		p:          p,
		stageName:  name,
		free:       newFreeList[T](2*p.opts.QueueLen + 4),
		in:         p.set.GetOrCreateCounter("ainka_stage_in_total" + l),
		outN:       p.set.GetOrCreateCounter("ainka_stage_out_total" + l),
		dropped:    p.set.GetOrCreateCounter("ainka_stage_dropped_total" + l),
		tapDropped: p.set.GetOrCreateCounter("ainka_tap_dropped_total" + l),
		busy:       p.set.GetOrCreateFloatCounter("ainka_stage_busy_seconds_total" + l),
		batchDur:   p.set.GetOrCreatePrometheusHistogramExt("ainka_stage_batch_duration_seconds"+l, batchBuckets),
	}
	if name == "" {
		s.buildErr = fmt.Errorf("add stage: empty name")
	}
	if _, ok := any((*T)(nil)).(jsonAppender); ok {
		s.encode = func(dst []byte, item *T) []byte {
			return any(item).(jsonAppender).AppendJSON(dst)
		}
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *stage[T]) name() string     { return s.stageName }
func (s *stage[T]) err() error       { return s.buildErr }
func (s *stage[T]) setErr(err error) { s.buildErr = err }

// connect makes the queue that the consumer named by consumer reads. A
// stage feeds one consumer; more readers subscribe with taps.
func (s *stage[T]) connect(consumer string) *queue[T] {
	if s.out != nil || s.next != nil {
		s.buildErr = fmt.Errorf("connect %q to %q: stage already feeds %q (use a tap)", consumer, s.stageName, s.out.name)
		return &queue[T]{name: consumer, ch: make(chan *Batch[T])}
	}
	s.out = &queue[T]{name: consumer, ch: make(chan *Batch[T], s.p.opts.QueueLen)}
	s.p.set.NewGauge(fmt.Sprintf(`ainka_queue_fill_ratio{queue=%q}`, s.stageName+"->"+consumer), func() float64 {
		return float64(len(s.out.ch)) / float64(cap(s.out.ch))
	})
	return s.out
}

func (s *stage[T]) batch() *Batch[T] { return s.free.get() }

func (s *stage[T]) clock() time.Time { return time.Now() }

func (s *stage[T]) observe(start time.Time) {
	d := time.Since(start)
	s.busy.Add(d.Seconds())
	s.batchDur.Update(d.Seconds())
}

// forward hands a finished output batch to the taps and the consumer. With
// block false it never waits: a full queue drops the batch and counts it.
// It reports whether the batch was delivered.
func (s *stage[T]) forward(ctx context.Context, b *Batch[T], block bool) bool {
	n := len(b.Items)
	if n == 0 {
		b.release()
		return true
	}
	for _, t := range s.taps {
		t.offer(b.Items)
	}
	if s.next != nil {
		s.outN.Add(n)
		s.next(b)
		return true
	}
	if s.out == nil {
		s.outN.Add(n)
		b.release()
		return true
	}
	nb := b.bytes()
	q := &s.p.queued
	if q.Add(nb) > s.p.opts.MaxQueuedBytes && s.p.opts.MaxQueuedBytes > 0 && !block {
		q.Add(-nb) // over the byte bound: drop rather than hold it
		s.dropped.Add(n)
		b.release()
		return false
	}
	if block {
		select {
		case s.out.ch <- b:
			s.outN.Add(n)
			return true
		case <-ctx.Done():
		}
	} else {
		select {
		case s.out.ch <- b:
			s.outN.Add(n)
			return true
		default:
		}
	}
	q.Add(-nb)
	s.dropped.Add(n)
	b.release()
	return false
}

func (s *stage[T]) addTap(w io.Writer, opts TapOptions) error {
	if s.encode == nil {
		return fmt.Errorf("tap %q: stage has no JSON encoder", s.stageName)
	}
	s.taps = append(s.taps, &tap[T]{
		w:        bufio.NewWriterSize(w, 64<<10),
		ch:       make(chan []byte, opts.Buffer),
		spare:    make(chan []byte, opts.Buffer+1),
		lossless: opts.Lossless,
		dropped:  s.tapDropped,
		encode:   s.encode,
	})
	return nil
}

func (s *stage[T]) start(ctx context.Context, wp *pool.ErrorPool) {
	for _, t := range s.taps {
		wp.Go(t.run)
	}
	if s.inline {
		return // runs on its producer's goroutine
	}
	wp.Go(func() error {
		defer s.finish()
		if prio := s.p.opts.RealTime; prio > 0 {
			if err := realtime(prio); err != nil {
				return fmt.Errorf("stage %s: %w", s.stageName, err)
			}
		}
		if err := s.runFn(ctx); err != nil {
			return fmt.Errorf("stage %s: %w", s.stageName, err)
		}
		return nil
	})
}

// finish ends the stage's output once it has sent its last batch: the
// consumer's queue is closed, or an inline consumer is flushed, and the
// taps end.
func (s *stage[T]) finish() {
	if s.out != nil {
		close(s.out.ch)
	}
	if s.end != nil {
		s.end()
	}
	for _, t := range s.taps {
		close(t.ch)
	}
}

// addInline makes s, running proc, the inline consumer of in
// (Options.Inline): in's sends run it on in's goroutine.
func addInline[In, Out any](in *stage[In], s *stage[Out], proc Processor[In, Out]) {
	if in.out != nil || in.next != nil {
		s.buildErr = fmt.Errorf("connect %q to %q: stage already feeds another (use a tap)", s.stageName, in.stageName)
		return
	}
	s.inline = true
	in.next = func(b *Batch[In]) { process(s, proc, b) }
	in.end = func() {
		flush(s, proc)
		s.finish()
	}
}

// process runs proc on one input batch, gives the batch back and hands
// the output on.
func process[In, Out any](s *stage[Out], proc Processor[In, Out], b *Batch[In]) {
	s.in.Add(len(b.Items))
	out := s.batch()
	t := s.clock()
	out.Items = proc.Process(b.Items, out.Items)
	s.observe(t)
	b.release()
	s.forward(context.Background(), out, true)
}

// flush hands on what a Flusher held back, after the last input batch.
func flush[In, Out any](s *stage[Out], proc Processor[In, Out]) {
	if f, ok := proc.(Flusher[Out]); ok {
		out := s.batch()
		out.Items = f.Flush(out.Items)
		s.forward(context.Background(), out, true)
	}
}

func (s *stage[T]) stats() StageStats {
	st := StageStats{
		Name:       s.stageName,
		In:         s.in.Get(),
		Out:        s.outN.Get(),
		Dropped:    s.dropped.Get(),
		TapDropped: s.tapDropped.Get(),
		BusySec:    s.busy.Get(),
	}
	if s.out != nil {
		st.QueueLen, st.QueueCap = len(s.out.ch), cap(s.out.ch)
	}
	return st
}

// Emitter is how a source hands batches to the pipeline.
type Emitter[T any] struct{ s *stage[T] }

// Batch returns an empty, recycled batch to fill.
func (e *Emitter[T]) Batch() *Batch[T] { return e.s.batch() }

// Send hands b to the pipeline, waiting while the next stage is busy. It
// returns ctx's error if ctx ends first; b is then dropped and counted.
func (e *Emitter[T]) Send(ctx context.Context, b *Batch[T]) error {
	e.s.in.Add(len(b.Items))
	if !e.s.forward(ctx, b, true) {
		return ctx.Err()
	}
	return nil
}

// TrySend hands b to the pipeline if the next stage has room and otherwise
// drops it, counting its items in ainka_stage_dropped_total. It never
// blocks. Either way b belongs to the pipeline afterwards.
func (e *Emitter[T]) TrySend(b *Batch[T]) bool {
	e.s.in.Add(len(b.Items))
	return e.s.forward(context.Background(), b, false)
}

// Release gives back a batch the source decided not to send.
func (e *Emitter[T]) Release(b *Batch[T]) { b.release() }

// tap encodes a stage's output as JSON lines on the stage's goroutine (so
// that it never holds references into recycled batches) and writes them on
// its own goroutine.
type tap[T any] struct {
	w        *bufio.Writer
	ch       chan []byte
	spare    chan []byte
	lossless bool
	dropped  *metrics.Counter
	encode   func(dst []byte, item *T) []byte
}

func (t *tap[T]) offer(items []T) {
	if !t.lossless && len(t.ch) == cap(t.ch) {
		// The reader is behind: drop before spending time on encoding.
		t.dropped.Add(len(items))
		return
	}
	var buf []byte
	select {
	case buf = <-t.spare:
	default:
	}
	for i := range items {
		buf = t.encode(buf, &items[i])
		buf = append(buf, '\n')
	}
	if t.lossless {
		t.ch <- buf
		return
	}
	select {
	case t.ch <- buf:
	default:
		t.dropped.Add(len(items))
	}
}

func (t *tap[T]) run() error {
	var werr error
	for buf := range t.ch {
		if werr == nil {
			if _, err := t.w.Write(buf); err != nil {
				werr = err
			} else if len(t.ch) == 0 {
				werr = t.w.Flush()
			}
		}
		// After a write error keep draining so the stage never blocks.
		select {
		case t.spare <- buf[:0]:
		default:
		}
	}
	if werr == nil {
		werr = t.w.Flush()
	}
	if werr != nil {
		return fmt.Errorf("write tap: %w", werr)
	}
	return nil
}
