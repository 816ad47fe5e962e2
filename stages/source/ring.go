package source

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
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
	// f is a non-blocking duplicate of the map's fd in Go's network
	// poller, and rc its raw access: the reader parks on the poller
	// instead of blocking a thread in epoll_wait. A goroutine blocked in a
	// system call keeps Go's sysmon thread waking every 20 µs to retake its
	// P: with the ring waited on 200 times a second that was half of the
	// daemon's CPU time (docs/bench-history.md).
	f  *os.File
	rc syscall.RawConn
	// kw replaces f with the reader's own epoll_wait (Config.KernelWait).
	kw      *kernelWait
	wrapped uint64 // records copied in two parts (tests)
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

// newRing maps m's pages. With kernelWait the reader waits for it in its
// own epoll_wait (kernelWait, Config.KernelWait); else in Go's poller.
func newRing(m *ebpf.Map, kernelWait bool) (*ring, error) {
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
	r := &ring{
		consPage: cons,
		prodArea: prod,
		consPos:  (*uint64)(unsafe.Pointer(&cons[0])),
		prodPos:  (*uint64)(unsafe.Pointer(&prod[0])),
		data:     prod[page:],
		size:     uint64(size),
		mask:     uint64(size - 1),
	}
	if kernelWait {
		r.kw, err = newKernelWait(fd)
	} else {
		r.f, r.rc, err = pollable(fd)
	}
	if err != nil {
		unix.Munmap(cons)
		unix.Munmap(prod)
		return nil, err
	}
	return r, nil
}

// pollable returns a non-blocking duplicate of fd registered with Go's
// poller, and its raw access.
func pollable(fd int) (*os.File, syscall.RawConn, error) {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("dup ring fd: %w", err)
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, nil, fmt.Errorf("ring fd non-blocking: %w", err)
	}
	f := os.NewFile(uintptr(dup), "events_map")
	// A file the poller could not take has no deadlines: fail rather than
	// block the reader forever.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("ring fd not pollable: %w", err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("ring fd: %w", err)
	}
	return f, rc, nil
}

// wait blocks until the kernel wakes the reader or d passes (await).
func (r *ring) wait(d time.Duration) error {
	_, err := r.await(time.Now().Add(d))
	return err
}

// await blocks until the kernel wakes the reader or deadline passes, and
// says whether it has passed. The poller is edge-triggered: the ring polls
// readable whenever it holds data, so a level-triggered wait would return
// at once and the reader would spin on a few records at a time;
// edge-triggered, it sleeps until the kernel actually wakes it (fill
// threshold crossed) or its deadline. The first call of the callback comes
// before any wait: it asks to wait.
func (r *ring) await(deadline time.Time) (bool, error) {
	if r.kw != nil {
		return r.kw.until(monoOf(deadline))
	}
	if err := r.f.SetReadDeadline(deadline); err != nil {
		return false, fmt.Errorf("ring deadline: %w", err)
	}
	waited := false
	err := r.rc.Read(func(uintptr) bool {
		done := waited
		waited = true
		return done
	})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("wait for ring: %w", err)
	}
	return false, nil
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
	if r.kw != nil {
		r.kw.close()
	} else {
		r.f.Close()
	}
	unix.Munmap(r.consPage)
	unix.Munmap(r.prodArea)
}
