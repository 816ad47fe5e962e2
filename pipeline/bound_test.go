package pipeline

import (
	"context"
	"testing"
)

// TestTrySendBoundedInBytes: with MaxQueuedBytes the batches waiting in
// the queues never hold more than the bound, whatever QueueLen allows:
// a non-blocking send over it is dropped and counted, and once the
// consumer drains, sends go through again (issue 16, memory bound: 64
// queued live source batches were 36 MiB).
func TestTrySendBoundedInBytes(t *testing.T) {
	const batch, bound = 8000, 3 * 8000 // bytes: 1000 nums of 8 bytes
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	p := New(Options{QueueLen: 64, MaxQueuedBytes: bound})
	send := func(out *Emitter[num]) bool {
		b := out.Batch()
		if cap(b.Items) == 0 {
			b.Items = make([]num, 0, batch/8)
		}
		b.Items = append(b.Items, 1)
		return out.TrySend(b)
	}
	var most int64
	var src Source[num] = SourceFunc[num](func(ctx context.Context, out *Emitter[num]) error {
		send(out) // taken by the gate, which then blocks
		<-g.entered
		sent := 0
		for range 20 {
			if send(out) {
				sent++
			}
			most = max(most, p.QueuedBytes())
		}
		if sent != 3 {
			t.Errorf("sent %d batches of %d bytes under a bound of %d bytes (queue of 64), want 3", sent, batch, bound)
		}
		close(g.release)
		return nil
	})
	AddStage[num, num](p, "gate", AddSource(p, "source", src), g)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if most > bound {
		t.Errorf("the queues held %d bytes, bound %d", most, bound)
	}
	if st := p.Stats(); st[0].Dropped != 17 || st[1].In != 4 {
		t.Errorf("source %+v, gate %+v: want 17 dropped, 4 through", st[0], st[1])
	}
	if q := p.QueuedBytes(); q != 0 {
		t.Errorf("%d bytes counted queued after the run", q)
	}
}
