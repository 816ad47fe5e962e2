package source

import (
	"context"
	"fmt"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/plugins/probe/spec"
)

// reader is Run's state: the batch being filled and its per-kind counts.
type reader struct {
	l     *Live
	out   *pipeline.Emitter[[]byte]
	b     *pipeline.Batch[[]byte]
	kinds [record.NumKinds]uint64
	// probeRecs counts the batch's records per probe plugin (Live.probes).
	probeRecs [spec.MaxKinds]uint64
	hs        record.HostSample
	// hsRead: hs holds values read ahead of the sample's time (see
	// Live.waitUntil), to be stamped by the next addHostSample.
	hsRead bool
}

func (r *reader) batch() *pipeline.Batch[[]byte] {
	if r.b == nil {
		b := r.out.Batch()
		n := r.l.cfg.BatchRecords
		// Items point into Buf: size Buf once so it never reallocates.
		if cap(b.Buf) < n*maxRecord {
			b.Buf = make([]byte, 0, n*maxRecord)
		}
		if cap(b.Items) < n {
			b.Items = make([][]byte, 0, n)
		}
		r.b = b
	}
	return r.b
}

func (r *reader) full() bool {
	b := r.b
	return b != nil && (len(b.Items) >= r.l.cfg.BatchRecords || cap(b.Buf)-len(b.Buf) < maxRecord)
}

// commit makes the n bytes after len(Buf) (already written) the next item.
func (r *reader) commit(n int) {
	b := r.b
	start := len(b.Buf)
	b.Buf = b.Buf[:start+n]
	rec := b.Buf[start : start+n : start+n]
	b.Items = append(b.Items, rec)
	k := record.RecordKind(rec)
	if k >= record.NumKinds {
		k = 0
	}
	r.kinds[k]++
}

// appendRecord copies rec in as the next item.
func (r *reader) appendRecord(rec []byte) {
	if r.full() {
		r.send()
	}
	b := r.batch()
	n := copy(b.Buf[len(b.Buf):cap(b.Buf)], rec)
	r.commit(n)
}

// send hands the batch on without blocking; a refused batch is dropped and
// counted per kind.
func (r *reader) send() {
	if b := r.take(); b != nil {
		r.account(r.out.TrySend(b))
	}
}

// take detaches the batch being filled; an empty one goes straight back
// to the free list and take returns nil.
func (r *reader) take() *pipeline.Batch[[]byte] {
	b := r.b
	r.b = nil
	if b != nil && len(b.Items) == 0 {
		r.out.Release(b)
		return nil
	}
	return b
}

func (r *reader) account(ok bool) {
	for k, n := range r.kinds {
		if n == 0 {
			continue
		}
		r.l.read[k].Add(n)
		if !ok {
			r.l.dropped[k].Add(n)
		}
		r.kinds[k] = 0
	}
	r.accountProbes(ok)
}

// sendFinal hands the last batch on after the programs are detached:
// waiting is harmless then, but bounded in case the pipeline died.
func (r *reader) sendFinal() {
	b := r.take()
	if b == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.account(r.out.Send(ctx, b) == nil)
}

// readRing moves records from the ring into batches until the ring is
// empty and deadline has passed (a zero deadline: just empty the ring). A
// partial batch is sent before waiting, so records never sit in it.
func (r *reader) readRing(deadline time.Time) error {
	rg := r.l.rg
	if rg == nil {
		if d := time.Until(deadline); d > 0 {
			if r.l.cfg.KernelWait {
				sleepMono(monotonicNs() + uint64(d))
			} else {
				time.Sleep(d)
			}
		}
		return nil
	}
	passed := false
	for {
		if r.full() {
			r.send()
		}
		b := r.batch()
		var err error
		b.Buf, b.Items, err = rg.read(b.Buf, b.Items, r.l.cfg.BatchRecords, maxRecord, &r.kinds)
		if err != nil {
			return fmt.Errorf("read events_map: %w", err)
		}
		if r.full() {
			// More may be waiting. Under a sustained flood the ring may
			// never look empty: come up for host samples and
			// cancellation anyway.
			if !deadline.IsZero() && time.Now().After(deadline) {
				return nil
			}
			continue
		}
		if len(b.Items) > 0 {
			r.send()
		}
		if deadline.IsZero() || passed {
			return nil
		}
		// No clock read here: the wait says when the deadline has passed
		// (kernelWait.until counts the reader's system calls).
		if passed, err = rg.await(deadline); err != nil {
			return err
		}
	}
}

// readHostAhead reads the host's counters now for the next sample: reading
// them (six /proc files) takes 50 to 300 µs, which an aligned sample then
// does not spend between the window's end and its watermark.
func (r *reader) readHostAhead() {
	r.l.host.sample(&r.hs)
	r.hsRead = true
}

// addHostSample appends a host sample stamped now, with the values read
// ahead if any (they are then at most preciseWake older than the stamp:
// the host's counters tick every few milliseconds at best), else read now.
func (r *reader) addHostSample() {
	if !r.hsRead {
		r.l.host.sample(&r.hs)
	}
	r.hsRead = false
	if r.full() {
		r.send()
	}
	b := r.batch()
	start := len(b.Buf)
	b.Buf = appendHostSample(b.Buf, &r.hs, monotonicNs())
	n := len(b.Buf) - start
	b.Buf = b.Buf[:start]
	r.commit(n)
	r.l.userEmitted[record.KindHostSample].Add(1)
}

func (r *reader) addInjected() {
	l := r.l
	l.injMu.Lock()
	pending := l.injBuf
	l.injBuf = l.injSpare[:0]
	l.injMu.Unlock()
	for len(pending) > 0 {
		n := record.RecordKind(pending).RecordSize() // checked by Inject
		r.appendRecord(pending[:n])
		pending = pending[n:]
	}
	l.injMu.Lock()
	l.injSpare = pending[:0]
	l.injMu.Unlock()
}
