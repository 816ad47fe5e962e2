package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// num is a test item with a JSON form.
type num int

func (n *num) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"n":`...)
	dst = strconv.AppendInt(dst, int64(*n), 10)
	return append(dst, '}')
}

// countSource emits 0..n-1 in batches of size, blocking or not.
type countSource struct {
	n, size  int
	nonBlock bool
}

func (c countSource) Run(ctx context.Context, out *Emitter[num]) error {
	for i := 0; i < c.n; {
		b := out.Batch()
		for j := 0; j < c.size && i < c.n; j++ {
			b.Items = append(b.Items, num(i))
			i++
		}
		if c.nonBlock {
			out.TrySend(b)
			continue
		}
		if err := out.Send(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

type double struct{}

func (double) Process(in []num, out []num) []num {
	for _, v := range in {
		out = append(out, 2*v)
	}
	return out
}

// summer keeps a running sum and emits it once, at Flush.
type summer struct{ sum num }

func (s *summer) Process(in []num, out []num) []num {
	for _, v := range in {
		s.sum += v
	}
	return out
}

func (s *summer) Flush(out []num) []num { return append(out, s.sum) }

func TestChainFlushAndTaps(t *testing.T) {
	p := New(Options{QueueLen: 2})
	src := AddSource[num](p, "source", countSource{n: 1000, size: 64})
	d := AddStage[num, num](p, "double", src, double{})
	AddStage[num, num](p, "sum", d, &summer{})

	var dbl, sum bytes.Buffer
	if err := p.Tap("double", &dbl, TapOptions{Lossless: true}); err != nil {
		t.Fatal(err)
	}
	if err := p.Tap("sum", &sum, TapOptions{Lossless: true}); err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := sum.String(), `{"n":999000}`+"\n"; got != want {
		t.Errorf("sum tap = %q, want %q", got, want)
	}
	lines := strings.Split(strings.TrimSpace(dbl.String()), "\n")
	if len(lines) != 1000 || lines[0] != `{"n":0}` || lines[999] != `{"n":1998}` {
		t.Errorf("double tap: %d lines, first %q last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	st := p.Stats()
	want := []StageStats{
		{Name: "source", In: 1000, Out: 1000},
		{Name: "double", In: 1000, Out: 1000},
		{Name: "sum", In: 1000, Out: 1},
	}
	for i, w := range want {
		g := st[i]
		if g.Name != w.Name || g.In != w.In || g.Out != w.Out || g.Dropped != 0 {
			t.Errorf("stats[%d] = %+v, want %+v", i, g, w)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	p := New(Options{})
	src := AddSource[num](p, "source", countSource{n: 1, size: 1})
	AddStage[num, num](p, "x", src, double{})
	AddStage[num, num](p, "x", src, double{})
	err := p.Tap("nope", io.Discard, TapOptions{})
	if !errors.Is(err, ErrUnknownStage) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Tap(nope) = %v, want ErrUnknownStage naming the stage", err)
	}
	err = p.Run(context.Background())
	if !errors.Is(err, ErrDuplicateStage) {
		t.Errorf("Run = %v, want ErrDuplicateStage", err)
	}
	if !strings.Contains(err.Error(), "already feeds") {
		t.Errorf("Run = %v, want the second consumer of source reported", err)
	}
	if err := p.Run(context.Background()); !errors.Is(err, ErrStarted) {
		t.Errorf("second Run = %v, want ErrStarted", err)
	}
	if err := New(Options{}).Run(context.Background()); !errors.Is(err, ErrNoSource) {
		t.Errorf("empty Run = %v, want ErrNoSource", err)
	}
}

// gate blocks its first Process call until released, to fill queues.
type gate struct {
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gate) Process(in []num, out []num) []num {
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
	return append(out, in...)
}

func TestTrySendDropsAndCounts(t *testing.T) {
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	p := New(Options{QueueLen: 1})
	var src Source[num] = SourceFunc[num](func(ctx context.Context, out *Emitter[num]) error {
		b := out.Batch()
		b.Items = append(b.Items, 1)
		out.TrySend(b) // taken by the gate, which then blocks
		<-g.entered
		sent := 0
		for i := 0; i < 10; i++ {
			b := out.Batch()
			b.Items = append(b.Items, 1, 2, 3)
			if out.TrySend(b) {
				sent++
			}
		}
		if sent != 1 {
			t.Errorf("sent %d batches into a queue of 1, want 1", sent)
		}
		close(g.release)
		return nil
	})
	s := AddSource(p, "source", src)
	AddStage[num, num](p, "gate", s, g)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st[0].In != 31 || st[0].Out != 4 || st[0].Dropped != 27 {
		t.Errorf("source stats %+v, want in 31 out 4 dropped 27", st[0])
	}
	if st[1].In != 4 || st[1].Out != 4 {
		t.Errorf("gate stats %+v, want in 4 out 4", st[1])
	}
}

// slowWriter blocks every write until the test ends.
type slowWriter struct{ unblock chan struct{} }

func (w slowWriter) Write(p []byte) (int, error) { <-w.unblock; return len(p), nil }

func TestLossyTapNeverBlocks(t *testing.T) {
	w := slowWriter{unblock: make(chan struct{})}
	p := New(Options{})
	src := AddSource[num](p, "source", countSource{n: 100000, size: 100})
	AddStage[num, num](p, "double", src, double{})
	if err := p.Tap("double", w, TapOptions{Buffer: 1}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	// The stages must finish while the tap's writer is stuck; the tap
	// goroutine itself finishes once the writer is released.
	deadline := time.After(10 * time.Second)
	for {
		st := p.Stats()
		if st[1].Out == 100000 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("pipeline stuck behind a slow tap: %+v", st)
		case <-time.After(time.Millisecond):
		}
	}
	close(w.unblock)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := p.Stats()[1].TapDropped; d == 0 {
		t.Errorf("tap dropped 0 items behind a blocked writer")
	}
}

func TestCancelDrainsInFlight(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := New(Options{QueueLen: 4})
	var src Source[num] = SourceFunc[num](func(ctx context.Context, out *Emitter[num]) error {
		for i := 0; ; i++ {
			b := out.Batch()
			b.Items = append(b.Items, num(i))
			if err := out.Send(ctx, b); err != nil {
				return err
			}
			if i == 50 {
				cancel()
			}
		}
	})
	s := AddSource(p, "source", src)
	AddStage[num, num](p, "sum", AddStage[num, num](p, "double", s, double{}), &summer{})
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	st := p.Stats()
	if st[0].Out != st[1].In || st[1].Out != st[2].In {
		t.Errorf("items lost on shutdown: %+v", st)
	}
	if st[0].Out < 51 {
		t.Errorf("source delivered %d items before cancel, want >= 51", st[0].Out)
	}
}

func TestSourceErrorIsReturned(t *testing.T) {
	boom := errors.New("boom")
	p := New(Options{})
	AddSource(p, "source", SourceFunc[num](func(context.Context, *Emitter[num]) error { return boom }))
	if err := p.Run(context.Background()); !errors.Is(err, boom) || !strings.Contains(err.Error(), "stage source") {
		t.Errorf("Run = %v, want boom wrapped with the stage name", err)
	}
}

func TestTapWithoutEncoder(t *testing.T) {
	p := New(Options{})
	AddSource(p, "source", SourceFunc[int](func(context.Context, *Emitter[int]) error { return nil }))
	if err := p.Tap("source", io.Discard, TapOptions{}); err == nil || !strings.Contains(err.Error(), "no JSON encoder") {
		t.Errorf("Tap = %v, want a missing-encoder error", err)
	}
	p2 := New(Options{})
	AddSource(p2, "source", SourceFunc[int](func(ctx context.Context, out *Emitter[int]) error {
		b := out.Batch()
		b.Items = append(b.Items, 7)
		return out.Send(ctx, b)
	}), Encoder(func(dst []byte, v *int) []byte { return strconv.AppendInt(dst, int64(*v), 10) }))
	var buf bytes.Buffer
	if err := p2.Tap("source", &buf, TapOptions{Lossless: true}); err != nil {
		t.Fatal(err)
	}
	if err := p2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "7\n" {
		t.Errorf("tap = %q, want %q", buf.String(), "7\n")
	}
}

func TestMetricsNames(t *testing.T) {
	p := New(Options{})
	src := AddSource[num](p, "source", countSource{n: 10, size: 3})
	AddStage[num, num](p, "double", src, double{})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	p.Metrics().WritePrometheus(&buf)
	for _, want := range []string{
		`ainka_stage_in_total{stage="double"} 10`,
		`ainka_stage_out_total{stage="source"} 10`,
		`ainka_stage_dropped_total{stage="source"} 0`,
		`ainka_queue_fill_ratio{queue="source->double"} 0`,
		`ainka_stage_busy_seconds_total{stage="double"}`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, buf.String())
		}
	}
}

func BenchmarkChain(b *testing.B) {
	const size = 256
	p := New(Options{})
	src := AddSource(p, "source", SourceFunc[num](func(ctx context.Context, out *Emitter[num]) error {
		for i := 0; i < b.N; i += size {
			bt := out.Batch()
			for j := 0; j < size; j++ {
				bt.Items = append(bt.Items, num(j))
			}
			if err := out.Send(ctx, bt); err != nil {
				return err
			}
		}
		return nil
	}))
	AddStage[num, num](p, "sum", AddStage[num, num](p, "double", src, double{}), &summer{})
	b.ReportAllocs()
	b.ResetTimer()
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func TestHasPointers(t *testing.T) {
	type plain struct {
		A uint64
		B [16]byte
		C [2]struct{ X float64 }
	}
	type withSlice struct {
		A uint64
		B []byte
	}
	for _, tc := range []struct {
		t    reflect.Type
		want bool
	}{
		{reflect.TypeFor[num](), false},
		{reflect.TypeFor[plain](), false},
		{reflect.TypeFor[[]byte](), true},
		{reflect.TypeFor[withSlice](), true},
		{reflect.TypeFor[string](), true},
		{reflect.TypeFor[*int](), true},
		{reflect.TypeFor[[3]*int](), true},
	} {
		if got := hasPointers(tc.t); got != tc.want {
			t.Errorf("hasPointers(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
}

// TestRecycledBatchesDropReferences: a batch of pointer-holding items is
// cleared when recycled, so the pipeline never pins what stages let go of.
func TestRecycledBatchesDropReferences(t *testing.T) {
	f := newFreeList[[]byte](1)
	b := f.get()
	b.Items = append(b.Items, []byte("x"))
	f.put(b)
	if got := b.Items[:1][0]; got != nil {
		t.Errorf("recycled batch still references %q", got)
	}
}

// After a burst, a free list keeps at most maxSpareBytes of spare batches
// and lets the GC have the rest; in steady flow the same spares cycle
// without allocating.
func TestFreeListBoundedInBytes(t *testing.T) {
	const batchBytes = 576 << 10 // a live source batch: 4096 records
	f := newFreeList[byte](64)
	cycle(f, 40, batchBytes) // a burst: 40 batches in flight at once
	if held, kept := f.held.Load(), len(f.ch); held > maxSpareBytes || kept != maxSpareBytes/batchBytes {
		t.Errorf("after the burst: %d spares, %d bytes held (bound %d)", kept, held, maxSpareBytes)
	}
	// Steady flow: one batch at a time cycles through a spare.
	allocs := testing.AllocsPerRun(100, func() {
		b := f.get()
		b.Items = append(b.Items, 1)
		f.put(b)
	})
	if allocs != 0 {
		t.Errorf("steady flow allocates %v per batch", allocs)
	}
	for len(f.ch) > 0 {
		f.get()
	}
	if f.held.Load() != 0 {
		t.Errorf("%d bytes held with no spare", f.held.Load())
	}
}

// TestFreeListReleasedUnderLowerLoad: the spares a burst left are given to
// the GC once a whole period passed without needing them; the ones the
// lower load still cycles stay, and it still allocates nothing.
func TestFreeListReleasedUnderLowerLoad(t *testing.T) {
	const batchBytes = 512 << 10
	f := newFreeList[byte](64)
	now := int64(0)
	f.clock = func() int64 { return now }
	f.trimAt.Store(int64(trimEvery))
	inFlight := func(n int) { cycle(f, n, batchBytes) }
	inFlight(8) // the burst: 8 spares, 4 MiB
	if len(f.ch) != 8 {
		t.Fatalf("after the burst: %d spares, want 8", len(f.ch))
	}
	for step := range 20 { // 4 periods of lower load: 2 batches in flight
		now = int64(step) * int64(trimEvery) / 5
		inFlight(2)
	}
	if len(f.ch) != 2 || f.held.Load() != 2*batchBytes {
		t.Errorf("after lower load: %d spares, %d bytes held; want the 2 still cycled", len(f.ch), f.held.Load())
	}
	if allocs := testing.AllocsPerRun(50, func() { inFlight(2) }); allocs > 1 { // the slice of in-flight batches
		t.Errorf("lower load allocates %v batches per cycle", allocs)
	}
	now += 2 * int64(trimEvery)
	inFlight(5) // a new burst allocates again
	if len(f.ch) != 5 {
		t.Errorf("after a second burst: %d spares, want 5", len(f.ch))
	}
}

// cycle takes n batches from f at once, sized size bytes when new, and
// returns them: n batches in flight.
func cycle(f *freeList[byte], n, size int) {
	bs := make([]*Batch[byte], 0, 64)
	for range n {
		b := f.get()
		if cap(b.Items) == 0 {
			b.Items = make([]byte, 0, size)
		}
		bs = append(bs, b)
	}
	for _, b := range bs {
		f.put(b)
	}
}
