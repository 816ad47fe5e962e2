package source

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ainka/ainka/bpf/record"
	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ring reads a BPF ring buffer map directly from its mmap'ed pages.
//
// cilium/ebpf's ringbuf.Reader takes a mutex and publishes the consumer
// position after every record; at a million records per second the
// producer CPUs then re-fetch that cache line on every reserve. This reader
// copies a whole batch and publishes the consumer position once.
//
// The data pages are mapped once, not twice as libbpf and cilium do (so
// that a record crossing the end of the ring reads as contiguous): the
// kernel maps every page of the mapping at mmap time, so the second copy
// would add the ring's size to the daemon's RSS (16 MiB by default). A
// record that wraps is copied in two parts instead.
type ring struct {
	consPage []byte // consumer position, read-write
	prodArea []byte // producer position page + data pages
	consPos  *uint64
	prodPos  *uint64
	data     []byte // size bytes
	size     uint64
	mask     uint64
	epfd     int
	events   [1]unix.EpollEvent
	wrapped  uint64 // records copied in two parts (tests)
	// peak is the most bytes seen waiting in the ring at a read since
	// Live.RingFill last took it: how close the ring came to losing.
	peak atomic.Uint64
}

// Layout of struct bpf_ringbuf_hdr.
const (
	ringHdrSize    = 8
	ringBusyBit    = 1 << 31
	ringDiscardBit = 1 << 30
)

var errRingCorrupt = errors.New("ring buffer record header out of bounds")

func newRing(m *ebpf.Map) (*ring, error) {
	size := int(m.MaxEntries())
	page := os.Getpagesize()
	fd := m.FD()
	cons, err := unix.Mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap ring consumer page: %w", err)
	}
	prod, err := unix.Mmap(fd, int64(page), page+size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		unix.Munmap(cons)
		return nil, fmt.Errorf("mmap ring data pages: %w", err)
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		unix.Munmap(cons)
		unix.Munmap(prod)
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	// Edge-triggered: the ring polls readable whenever it holds data, so a
	// level-triggered wait would return at once and the reader would spin
	// on a few records at a time. Edge-triggered, it sleeps until the
	// kernel actually wakes it (fill threshold crossed) or its deadline.
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(fd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(epfd)
		unix.Munmap(cons)
		unix.Munmap(prod)
		return nil, fmt.Errorf("epoll_ctl ring: %w", err)
	}
	return &ring{
		consPage: cons,
		prodArea: prod,
		consPos:  (*uint64)(unsafe.Pointer(&cons[0])),
		prodPos:  (*uint64)(unsafe.Pointer(&prod[0])),
		data:     prod[page:],
		size:     uint64(size),
		mask:     uint64(size - 1),
		epfd:     epfd,
	}, nil
}

// wait blocks until the kernel wakes the reader or d passes.
func (r *ring) wait(d time.Duration) error {
	ms := int(d / time.Millisecond)
	if d > 0 && ms == 0 {
		ms = 1
	}
	for {
		_, err := unix.EpollWait(r.epfd, r.events[:], ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("epoll_wait ring: %w", err)
		}
		return nil
	}
}

// read copies committed records into buf's spare capacity, appending one
// item per record, until the ring is empty, a record is still being
// written, maxItems is reached or buf has less than maxRec bytes left. It
// returns the extended slices and publishes the consumer position once.
// kinds counts the records read per kind.
func (r *ring) read(buf []byte, items [][]byte, maxItems, maxRec int, kinds *[record.NumKinds]uint64) ([]byte, [][]byte, error) {
	cons := atomic.LoadUint64(r.consPos)
	prod := atomic.LoadUint64(r.prodPos)
	start := cons
	if p := prod - cons; p > r.peak.Load() {
		r.peak.Store(p) // only this goroutine raises it; RingFill resets it
	}
	var err error
	for cons < prod && len(items) < maxItems && cap(buf)-len(buf) >= maxRec {
		off := cons & r.mask
		// Atomic load: pairs with the kernel's xchg that clears the busy bit.
		// Headers are 8-byte aligned in a ring of whole pages: never split.
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[off])))
		if hdr&ringBusyBit != 0 {
			break
		}
		n := uint64(hdr &^ (ringBusyBit | ringDiscardBit))
		total := (n + ringHdrSize + 7) &^ 7
		if cons+total > prod {
			err = fmt.Errorf("%w: record of %d bytes at %d, producer at %d", errRingCorrupt, n, cons, prod)
			break
		}
		if hdr&ringDiscardBit == 0 {
			if int(n) > maxRec {
				// Not an ainka record; skip it rather than overflow buf.
				cons += total
				continue
			}
			from := (off + ringHdrSize) & r.mask
			s := len(buf)
			if to := from + n; to <= r.size {
				buf = append(buf, r.data[from:to]...)
			} else {
				buf = append(buf, r.data[from:]...)
				buf = append(buf, r.data[:to-r.size]...)
				r.wrapped++
			}
			rec := buf[s:len(buf):len(buf)]
			items = append(items, rec)
			k := record.RecordKind(rec)
			if k >= record.NumKinds {
				k = 0
			}
			kinds[k]++
		}
		cons += total
	}
	if cons != start {
		atomic.StoreUint64(r.consPos, cons)
	}
	return buf, items, err
}

func (r *ring) close() {
	unix.Close(r.epfd)
	unix.Munmap(r.consPage)
	unix.Munmap(r.prodArea)
}
