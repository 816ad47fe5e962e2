package source

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/plugins/probe"
)

// probeRing is one probe plugin kind's ring and its accounting, the same
// as a built-in kind's: Emitted == Read + Lost, Read == taken + Dropped.
// A live swap (Live.ChangeProbe) replaces p and rg; the kind's counters go
// on: base holds what the programs it replaced counted.
type probeRing struct {
	p             *probe.Loaded
	rg            *ring
	read, dropped atomic.Uint64
	base          probe.Stats // the replaced programs' final counters
	last          probe.Stats // last kernel counters of p; final once closed
	// gen counts the records read from rg (not from the rings it
	// replaced): a swap drains the old ring until its counters add up.
	gen uint64

	seen, emitted, lost, mDropped *metrics.Counter
}

// ProbeStats are one probe plugin kind's counters.
type ProbeStats struct {
	Name string
	Kind uint16
	// Plugin is the plugin running now (its manifest and kind).
	Plugin *probe.Plugin
	KindStats
	// Runtime and Runs are the kernel's accounting of the kind's programs
	// (probe.Stats): zero unless BPF run-time statistics are enabled.
	Runtime time.Duration
	Runs    uint64
}

// openProbes opens the reader of each probe plugin's ring. Live owns the
// plugins from here on: Run detaches them with the built-in programs and
// Close closes them.
func (l *Live) openProbes(ps []*probe.Loaded) error {
	for _, p := range ps {
		rg, err := newRing(p.Events(), false)
		if err != nil {
			return fmt.Errorf("open ring of probe plugin %s: %w", p.Name(), err)
		}
		l.probes = append(l.probes, &probeRing{p: p, rg: rg})
	}
	return nil
}

// readProbes moves what the plugins' rings hold into batches, without
// waiting: the built-in ring's wait paces the reader, so a plugin's
// records wait at most the read deadline.
func (r *reader) readProbes() error {
	var scratch [len(r.kinds)]uint64
	for i, pr := range r.l.probes {
		for {
			if r.full() {
				r.send()
			}
			b := r.batch()
			before := len(b.Items)
			var err error
			b.Buf, b.Items, err = pr.rg.read(b.Buf, b.Items, r.l.cfg.BatchRecords, maxRecord, &scratch)
			r.probeRecs[i] += uint64(len(b.Items) - before)
			pr.gen += uint64(len(b.Items) - before)
			if err != nil {
				return fmt.Errorf("read ring of probe plugin %s: %w", pr.p.Name(), err)
			}
			if !r.full() {
				break
			}
		}
	}
	return nil
}

// accountProbes adds the batch's plugin records to Read (and Dropped when
// the batch was refused).
func (r *reader) accountProbes(ok bool) {
	for i, n := range r.probeRecs[:len(r.l.probes)] {
		if n == 0 {
			continue
		}
		r.l.probes[i].read.Add(n)
		if !ok {
			r.l.probes[i].dropped.Add(n)
		}
		r.probeRecs[i] = 0
	}
}

func (l *Live) detachProbes() error {
	for _, pr := range l.probes {
		if err := pr.p.Detach(); err != nil {
			return fmt.Errorf("detach probe plugin %s: %w", pr.p.Name(), err)
		}
	}
	return nil
}

// probesDrained reports whether every record the plugins emitted has been
// read.
func (l *Live) probesDrained() bool {
	for _, pr := range l.probes {
		s, err := pr.p.Stats()
		if err == nil && s.Emitted != s.Lost+pr.gen {
			return false
		}
	}
	return true
}

// closeProbes keeps the final counters and frees the plugins. Called with
// statsMu held.
func (l *Live) closeProbes() {
	for _, pr := range l.probes {
		if s, err := pr.p.Stats(); err == nil {
			pr.last = s
		}
		pr.rg.close()
		pr.p.Close()
	}
}

// ProbeStats returns the counters of every probe plugin kind, in the
// order of Config.Probes.
func (l *Live) ProbeStats() []ProbeStats {
	l.statsMu.Lock()
	defer l.statsMu.Unlock()
	out := make([]ProbeStats, len(l.probes))
	for i, pr := range l.probes {
		if !l.closed {
			if s, err := pr.p.Stats(); err == nil {
				pr.last = s
			}
		}
		s := pr.base.Add(pr.last)
		out[i] = ProbeStats{Name: pr.p.Name(), Kind: pr.p.KindNumber(), Plugin: pr.p.Plugin, KindStats: KindStats{
			Seen: s.Seen, Emitted: s.Emitted, Lost: s.Lost, Filtered: s.Filtered,
			Read: pr.read.Load(), Dropped: pr.dropped.Load()}, Runtime: s.Runtime, Runs: s.Runs}
	}
	return out
}

// refreshProbeMetrics publishes the plugin kinds as the built-in ones,
// labelled with the plugin's name. Called by Run, the only goroutine that
// changes l.probes.
func (l *Live) refreshProbeMetrics(set *metrics.Set) {
	for i, s := range l.ProbeStats() {
		pr := l.probes[i]
		if pr.seen == nil {
			label := fmt.Sprintf(`{kind=%q}`, s.Name)
			pr.seen = set.GetOrCreateCounter("ainka_bpf_seen_total" + label)
			pr.emitted = set.GetOrCreateCounter("ainka_bpf_emitted_total" + label)
			pr.lost = set.GetOrCreateCounter("ainka_ringbuf_lost_total" + label)
			pr.mDropped = set.GetOrCreateCounter("ainka_source_dropped_total" + label)
		}
		pr.seen.Set(s.Seen)
		pr.emitted.Set(s.Emitted)
		pr.lost.Set(s.Lost)
		pr.mDropped.Set(s.Dropped)
	}
}

// ProbePlugins returns the probe plugins the source reads, in the order
// of Config.Probes.
func (l *Live) ProbePlugins() []*probe.Loaded {
	l.statsMu.Lock()
	defer l.statsMu.Unlock()
	out := make([]*probe.Loaded, len(l.probes))
	for i, pr := range l.probes {
		out[i] = pr.p
	}
	return out
}
