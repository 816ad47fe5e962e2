package pipeline

// Batch is the unit that moves between stages: a slice of items and, for
// producers whose items are byte slices, a backing buffer they may point
// into. Batches are recycled: a stage must not keep a reference to a batch,
// its Items or its Buf after it has handed the batch on or returned.
type Batch[T any] struct {
	Items []T
	// Buf is scratch storage that travels with the batch, e.g. the bytes
	// that raw records in Items point into.
	Buf []byte

	free *freeList[T]
}

// Reset empties the batch but keeps its capacity.
func (b *Batch[T]) Reset() {
	clear(b.Items) // drop references held by the items so the GC can reclaim them
	b.Items = b.Items[:0]
	b.Buf = b.Buf[:0]
}

// release returns the batch to the free list it came from.
func (b *Batch[T]) release() {
	if b.free != nil {
		b.free.put(b)
	}
}

// freeList recycles batches through a buffered channel: bounded, lock-free
// for the common case and allocation-free once warm. A sync.Pool would
// forget batches at every GC, which shows up as allocations per event.
type freeList[T any] struct {
	ch chan *Batch[T]
}

func newFreeList[T any](n int) *freeList[T] {
	return &freeList[T]{ch: make(chan *Batch[T], n)}
}

func (f *freeList[T]) get() *Batch[T] {
	select {
	case b := <-f.ch:
		return b
	default:
		return &Batch[T]{free: f}
	}
}

func (f *freeList[T]) put(b *Batch[T]) {
	b.Reset()
	select {
	case f.ch <- b:
	default: // enough spares already; let the GC have this one
	}
}
