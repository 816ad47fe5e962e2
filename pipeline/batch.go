package pipeline

import "reflect"

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
	if b.free == nil || b.free.pointers {
		clear(b.Items) // drop references held by the items so the GC can reclaim them
	}
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
	// pointers says whether T holds pointers; only then must a recycled
	// batch be cleared (events and windows are plain values: clearing
	// them cost 4-5% of a replay for nothing).
	pointers bool
}

func newFreeList[T any](n int) *freeList[T] {
	return &freeList[T]{ch: make(chan *Batch[T], n), pointers: hasPointers(reflect.TypeFor[T]())}
}

// hasPointers reports whether values of t contain pointers the GC follows.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
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
