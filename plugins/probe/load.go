package probe

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/plugins/probe/probebpf"
)

// DefaultRingBytes is a plugin ring's size: plugin kinds are expected to
// be rarer than the built-in ones, whose ring is 16 MiB.
const DefaultRingBytes = 1 << 20

// Loaded is a plugin attached in the kernel: its ring and counters.
type Loaded struct {
	*Plugin
	coll  *ebpf.Collection
	links []link.Link
	ring  *ebpf.Map
	stats *ebpf.Map
}

// Stats are the plugin's kernel counters, summed over CPUs (zero when its
// object keeps none), and the kernel's run time and run count of its
// programs (zero unless BPF run-time statistics are enabled: EnableRunTime).
type Stats struct {
	Seen, Emitted, Lost, Filtered uint64
	Runtime                       time.Duration
	Runs                          uint64
}

// Add returns s plus o: a kind's counters over the programs it ran, one
// after the other, across live swaps.
func (s Stats) Add(o Stats) Stats {
	return Stats{Seen: s.Seen + o.Seen, Emitted: s.Emitted + o.Emitted, Lost: s.Lost + o.Lost, Filtered: s.Filtered + o.Filtered,
		Runtime: s.Runtime + o.Runtime, Runs: s.Runs + o.Runs}
}

// Load loads p's program (the generic one, or the plugin's own object,
// checked against the manifest first), sets its kind and the daemon's
// thread group (never recorded), and attaches it. ringBytes 0 is
// DefaultRingBytes.
func (p *Plugin) Load(ringBytes int) (*Loaded, error) {
	if ringBytes == 0 {
		ringBytes = DefaultRingBytes
	}
	cs, err := p.collectionSpec()
	if err != nil {
		return nil, err
	}
	if err := setVar(cs, probebpf.VarKind, p.Kind.Kind); err != nil {
		return nil, fmt.Errorf("probe plugin %s: %w", p.Manifest.Name, err)
	}
	if err := setVar(cs, probebpf.VarSelfTgid, uint32(os.Getpid())); err != nil {
		return nil, fmt.Errorf("probe plugin %s: %w", p.Manifest.Name, err)
	}
	ringName, statsName := p.maps()
	cs.Maps[ringName].MaxEntries = uint32(ringBytes)
	coll, err := ebpf.NewCollection(cs)
	if err != nil {
		return nil, fmt.Errorf("probe plugin %s: load: %w", p.Manifest.Name, err)
	}
	l := &Loaded{Plugin: p, coll: coll, ring: coll.Maps[ringName]}
	if statsName != "" {
		l.stats = coll.Maps[statsName]
	}
	if err := l.attach(); err != nil {
		l.Close()
		return nil, fmt.Errorf("probe plugin %s: %w", p.Manifest.Name, err)
	}
	return l, nil
}

func (p *Plugin) maps() (ring, stats string) {
	if p.Manifest.Object != nil {
		return p.Manifest.Object.Ring, p.Manifest.Object.Stats
	}
	return probebpf.RingMap, probebpf.StatsMap
}

// collectionSpec is the generic program's spec, or the plugin's object
// once checked against the manifest.
func (p *Plugin) collectionSpec() (*ebpf.CollectionSpec, error) {
	if p.Manifest.Object == nil {
		return probebpf.LoadGeneric()
	}
	return p.CheckObject()
}

func setVar(cs *ebpf.CollectionSpec, name string, v any) error {
	vs, ok := cs.Variables[name]
	if !ok {
		return fmt.Errorf("%w: no global %s (declare AINKA_PROBE_GLOBALS of ainka_probe.h)", ErrObject, name)
	}
	return vs.Set(v)
}

func (l *Loaded) attach() error {
	if l.Manifest.Object == nil {
		return l.attachGeneric()
	}
	for _, pr := range l.Manifest.Object.Programs {
		prog := l.coll.Programs[pr.Name]
		var lk link.Link
		var err error
		switch pr.Attach {
		case "tp_btf":
			lk, err = link.AttachTracing(link.TracingOptions{Program: prog})
		case "raw_tracepoint":
			lk, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: pr.Target, Program: prog})
		default:
			g, e, _ := splitTracepoint(pr.Target)
			lk, err = link.Tracepoint(g, e, prog, nil)
		}
		if err != nil {
			return fmt.Errorf("attach program %s to %s %s: %w", pr.Name, pr.Attach, pr.Target, err)
		}
		l.links = append(l.links, lk)
	}
	return nil
}

// attachGeneric writes the fields to copy (their offsets and sizes in the
// tracepoint's record, from its format) and attaches the generic program.
func (l *Loaded) attachGeneric() error {
	var cfg probebpf.Config
	for i, name := range l.Manifest.Tracepoint.Fields {
		ff, _ := l.Format.Field(name) // Kind checked they exist
		if ff.Offset+8 > probebpf.RawLen {
			return fmt.Errorf("%w: field %s at offset %d: the generic program reads the first %d bytes of a record", ErrNoField, name, ff.Offset, probebpf.RawLen)
		}
		cfg.Offset[i], cfg.Size[i] = uint16(ff.Offset), uint8(ff.Size)
		if ff.Signed {
			cfg.IsSigned[i] = 1
		}
		cfg.RawLen = max(cfg.RawLen, uint32(ff.Offset+ff.Size))
		cfg.Nfields++
	}
	if err := l.coll.Maps[probebpf.ConfigMap].Put(uint32(0), &cfg); err != nil {
		return fmt.Errorf("write generic program config: %w", err)
	}
	g, e, _ := splitTracepoint(l.Manifest.Tracepoint.Name)
	lk, err := link.Tracepoint(g, e, l.coll.Programs[probebpf.Program], nil)
	if err != nil {
		return fmt.Errorf("attach to tracepoint %s: %w", l.Manifest.Tracepoint.Name, err)
	}
	l.links = append(l.links, lk)
	return nil
}

// EnableRunTime makes the kernel account the run time and run count of
// every BPF program (BPF_STATS_RUN_TIME) until the returned Closer is
// closed: Stats' Runtime and Runs. It costs two clock reads per program
// run, of every program on the host, AINKA's built-in ones included, so
// the daemon holds it only while a probe plugin is loaded.
func EnableRunTime() (io.Closer, error) {
	c, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		return nil, fmt.Errorf("enable BPF run-time statistics: %w", err)
	}
	return c, nil
}

// Events returns the plugin's ring buffer.
func (l *Loaded) Events() *ebpf.Map { return l.ring }

// KindNumber returns the plugin's record kind.
func (l *Loaded) KindNumber() uint16 { return l.Kind.Kind }

// Name returns the plugin's name.
func (l *Loaded) Name() string { return l.Manifest.Name }

// Stats sums the plugin's per-CPU counters and its programs' run time.
func (l *Loaded) Stats() (Stats, error) {
	var s Stats
	if l.coll != nil {
		for _, p := range l.coll.Programs {
			// The kernel counts run time only while someone holds BPF
			// statistics enabled; without, both stay zero.
			if ps, err := p.Stats(); err == nil {
				s.Runtime += ps.Runtime
				s.Runs += ps.RunCount
			}
		}
	}
	if l.stats == nil {
		return s, nil
	}
	var per []probebpf.Stats
	if err := l.stats.Lookup(uint32(0), &per); err != nil {
		return s, fmt.Errorf("read %s stats: %w", l.Manifest.Name, err)
	}
	for _, c := range per {
		s.Seen += c.Seen
		s.Emitted += c.Emitted
		s.Lost += c.Lost
		s.Filtered += c.Filtered
	}
	return s, nil
}

// Detach stops the programs; the ring and counters stay readable.
func (l *Loaded) Detach() error {
	var errs []error
	for _, lk := range l.links {
		errs = append(errs, lk.Close())
	}
	l.links = nil
	return errors.Join(errs...)
}

// Close detaches and frees everything; closing again does nothing.
func (l *Loaded) Close() error {
	err := l.Detach()
	if l.coll != nil {
		l.coll.Close()
		l.coll = nil
	}
	return err
}
