package tcpcc

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/cilium/ebpf/link"
)

// nameMax is the kernel's TCP_CA_NAME_MAX, with its NUL.
const nameMax = 16

// ErrName is returned for an algorithm name the kernel could not hold.
var ErrName = errors.New("congestion control name")

// Counts is what one pass over a namespace's connections did.
type Counts struct {
	Seen     int // established connections
	Switched int // from the old algorithm to the new one
	Failed   int // the kernel refused to read or set the algorithm
}

// Switcher holds the loaded iterator program. Its methods may be called
// from several goroutines; passes run one at a time (the program's
// configuration and counts are one copy).
type Switcher struct {
	mu   sync.Mutex
	objs tcpccObjects
	it   *link.Iter
}

// New loads and attaches the iterator (root, BTF and a 5.15+ kernel).
func New() (*Switcher, error) {
	s := &Switcher{}
	if err := loadTcpccObjects(&s.objs, nil); err != nil {
		return nil, fmt.Errorf("load tcp congestion-control iterator: %w", err)
	}
	it, err := link.AttachIter(link.IterOptions{Program: s.objs.AinkaTcpcc})
	if err != nil {
		s.objs.Close()
		return nil, fmt.Errorf("attach tcp congestion-control iterator: %w", err)
	}
	s.it = it
	return s, nil
}

// Switch moves the established connections of the calling thread's
// network namespace from algorithm from to algorithm to; connections on
// any other algorithm keep it. The namespace is the one of the thread
// that calls (the kernel binds an iterator to its creator's namespace):
// a caller for another namespace calls from a thread inside it.
func (s *Switcher) Switch(from, to string) (Counts, error) {
	var c Counts
	var cfg tcpccTcpccConfig
	if err := putName(cfg.From[:], from); err != nil {
		return c, err
	}
	if err := putName(cfg.To[:], to); err != nil {
		return c, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.objs.Cfg.Set(cfg); err != nil {
		return c, fmt.Errorf("configure tcp congestion-control iterator: %w", err)
	}
	if err := s.objs.Stats.Set(tcpccTcpccStats{}); err != nil {
		return c, fmt.Errorf("reset tcp congestion-control iterator counts: %w", err)
	}
	rd, err := s.it.Open()
	if err != nil {
		return c, fmt.Errorf("open tcp congestion-control iterator: %w", err)
	}
	_, err = io.Copy(io.Discard, rd) // the pass runs as the iterator is read
	rd.Close()
	if err != nil {
		return c, fmt.Errorf("run tcp congestion-control iterator: %w", err)
	}
	var st tcpccTcpccStats
	if err := s.objs.Stats.Get(&st); err != nil {
		return c, fmt.Errorf("read tcp congestion-control iterator counts: %w", err)
	}
	return Counts{Seen: int(st.Seen), Switched: int(st.Switched), Failed: int(st.Failed)}, nil
}

// putName copies name NUL-padded into dst.
func putName(dst []int8, name string) error {
	if name == "" || len(name) >= nameMax {
		return fmt.Errorf("%w %q: want 1..%d bytes", ErrName, name, nameMax-1)
	}
	for i := 0; i < len(name); i++ {
		if name[i] <= ' ' || name[i] > '~' {
			return fmt.Errorf("%w %q: byte %d is not a printable ASCII letter", ErrName, name, i)
		}
		dst[i] = int8(name[i])
	}
	return nil
}

// Close detaches and unloads the iterator.
func (s *Switcher) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.it.Close(), s.objs.Close())
}

// Lazy is a Switcher loaded at its first Switch: a daemon that never
// changes a congestion control loads nothing. A load that fails fails
// every Switch after it with the same error, without trying again.
type Lazy struct {
	mu  sync.Mutex
	s   *Switcher
	err error
}

// Switch is Switcher.Switch, loading the iterator first if need be.
func (l *Lazy) Switch(from, to string) (Counts, error) {
	l.mu.Lock()
	if l.s == nil && l.err == nil {
		l.s, l.err = New()
	}
	s, err := l.s, l.err
	l.mu.Unlock()
	if err != nil {
		return Counts{}, err
	}
	return s.Switch(from, to)
}

// Close unloads the iterator if it was loaded.
func (l *Lazy) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.s == nil {
		return nil
	}
	err := l.s.Close()
	l.s, l.err = nil, errors.New("tcp congestion-control iterator closed")
	return err
}
