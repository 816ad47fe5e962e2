package pipeline

import (
	"reflect"
	"sync/atomic"
	"time"
)

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

// bytes is the storage the batch holds (0 for one of no free list).
func (b *Batch[T]) bytes() int64 {
	if b.free == nil {
		return 0
	}
	return b.free.bytes(b)
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
	ch   chan *Batch[T]
	size int          // bytes of one T
	held atomic.Int64 // bytes of storage of the spares in ch
	// pointers says whether T holds pointers; only then must a recycled
	// batch be cleared (events and windows are plain values: clearing
	// them cost 4-5% of a replay for nothing).
	pointers bool
	// low is the fewest spares left by a get since the last trim: that
	// many sat unused for the whole period (-1: none taken yet).
	low    atomic.Int64
	trimAt atomic.Int64 // clock reading of the next trim
	clock  func() int64 // monotonic nanoseconds
}

// trimEvery is the period after which spares no get needed go to the GC:
// the batches a burst left stay for the next burst only while the load
// stays high.
const trimEvery = 2 * time.Second

// epoch makes time.Since monotonic nanoseconds for the free lists' clock.
var epoch = time.Now()

func monotonic() int64 { return int64(time.Since(epoch)) }

func newFreeList[T any](n int) *freeList[T] {
	t := reflect.TypeFor[T]()
	f := &freeList[T]{ch: make(chan *Batch[T], n), size: int(t.Size()), pointers: hasPointers(t), clock: monotonic}
	f.trimAt.Store(f.clock() + int64(trimEvery))
	return f
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
		f.held.Add(-f.bytes(b))
		if n := int64(len(f.ch)); n < f.low.Load() {
			f.low.Store(n) // racy min: one stage gets, a missed lower value only delays a trim
		}
		return b
	default:
		f.low.Store(0)
		return &Batch[T]{free: f}
	}
}

// maxSpareBytes bounds the storage one free list keeps in spare batches.
// The spares are what in-flight batches leave behind: after a burst that
// filled the queues, a free list held 2×QueueLen+4 of them (the source's
// are 576 KiB each), so RSS followed the largest burst for ever. Over the
// bound a returned batch goes to the GC instead: steady load still cycles
// through the spares without allocating, a burst allocates what it needs,
// and its memory is released once the load is lower.
const maxSpareBytes = 4 << 20

func (f *freeList[T]) bytes(b *Batch[T]) int64 {
	return int64(cap(b.Items)*f.size + cap(b.Buf))
}

func (f *freeList[T]) put(b *Batch[T]) {
	n := f.bytes(b)
	if f.held.Add(n) > maxSpareBytes && n > 0 {
		f.held.Add(-n) // over the bound: let the GC have this one
		return
	}
	b.Reset()
	select {
	case f.ch <- b:
	default: // enough spares already; let the GC have this one
		f.held.Add(-n)
	}
	f.trim()
}

// trim gives the GC, once per trimEvery, the spares that no get needed
// during the period: after a burst, RSS comes back down once the load is
// lower instead of staying at the largest burst's (the bound in bytes
// caps it, the trim releases it). Steady flow keeps the spares it cycles.
func (f *freeList[T]) trim() {
	now := f.clock()
	if now < f.trimAt.Load() {
		return
	}
	f.trimAt.Store(now + int64(trimEvery))
	for n := f.low.Load(); n > 0; n-- {
		select {
		case b := <-f.ch:
			f.held.Add(-f.bytes(b))
		default:
			n = 0
		}
	}
	f.low.Store(int64(len(f.ch)))
}
