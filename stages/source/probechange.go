package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ainka/ainka/plugins/probe"
)

// ErrNotRunning is returned by ChangeProbe when Run has returned: there
// is no reader to take the change.
var ErrNotRunning = errors.New("live source is not running")

// ErrNoProbeKind is returned by ChangeProbe for a kind the source does
// not read, or an added plugin whose kind it already reads.
var ErrNoProbeKind = errors.New("no such probe plugin kind")

// probeChange is one ChangeProbe request, applied by Run's goroutine (the
// only one that reads the rings) between two reads.
type probeChange struct {
	kind uint16        // the running kind to replace or remove; 0 adds p
	p    *probe.Loaded // the new plugin; nil removes kind
	done chan error
}

// ChangeProbe changes the probe plugins the running source reads, between
// two reads of its rings, and returns once it is done:
//
//   - kind 0: p, loaded and attached, is a new kind, read from now on;
//   - p nil: kind's programs are detached, its ring drained into the
//     pipeline and freed; the kind is read no more;
//   - otherwise p replaces kind's plugin (a live swap): p is attached
//     already, so the old programs are detached only now, their ring
//     drained, and the plugin's counters go on (also when p is of another
//     kind number: a new layout of the same plugin). p must have the
//     same name: the counters are published by name.
//
// On success the source owns p (Close frees it); on an error it does not.
func (l *Live) ChangeProbe(ctx context.Context, kind uint16, p *probe.Loaded) error {
	req := probeChange{kind: kind, p: p, done: make(chan error, 1)}
	select {
	case l.changes <- req:
	case <-l.runDone:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.done
}

// applyChanges applies the pending ChangeProbe requests (Run's goroutine).
func (r *reader) applyChanges() {
	for {
		select {
		case req := <-r.l.changes:
			req.done <- r.applyChange(req)
		default:
			return
		}
	}
}

func (r *reader) applyChange(req probeChange) error {
	l := r.l
	i := slices.IndexFunc(l.probes, func(pr *probeRing) bool { return pr.p.KindNumber() == req.kind })
	if req.kind == 0 {
		return r.addProbe(req.p)
	}
	if i < 0 {
		return fmt.Errorf("%w: kind %d", ErrNoProbeKind, req.kind)
	}
	if p := req.p; p != nil && (p.Name() != l.probes[i].p.Name() || p.KindNumber() != req.kind && r.reads(p.KindNumber())) {
		return fmt.Errorf("%w: %s (kind %d) cannot replace %s (kind %d): another name, or a kind read already", ErrNoProbeKind,
			p.Name(), p.KindNumber(), l.probes[i].p.Name(), req.kind)
	}
	var rg *ring
	if req.p != nil {
		var err error
		if rg, err = newRing(req.p.Events(), false); err != nil {
			return fmt.Errorf("open ring of probe plugin %s: %w", req.p.Name(), err)
		}
	}
	pr := l.probes[i]
	final, err := r.retire(pr)
	l.statsMu.Lock()
	defer l.statsMu.Unlock()
	if req.p == nil {
		// retire handed the batch on (its counts are by index), so the
		// indices may move.
		pr.last = final
		l.probes = slices.Delete(l.probes, i, i+1)
		return err
	}
	pr.base, pr.last = pr.base.Add(final), probe.Stats{}
	pr.p, pr.rg, pr.gen = req.p, rg, 0
	return err
}

// reads reports whether the source reads kind k.
func (r *reader) reads(k uint16) bool {
	return slices.ContainsFunc(r.l.probes, func(pr *probeRing) bool { return pr.p.KindNumber() == k })
}

func (r *reader) addProbe(p *probe.Loaded) error {
	l := r.l
	if r.reads(p.KindNumber()) {
		return fmt.Errorf("%w: kind %d is read already", ErrNoProbeKind, p.KindNumber())
	}
	rg, err := newRing(p.Events(), false)
	if err != nil {
		return fmt.Errorf("open ring of probe plugin %s: %w", p.Name(), err)
	}
	l.statsMu.Lock()
	l.probes = append(l.probes, &probeRing{p: p, rg: rg})
	l.statsMu.Unlock()
	return nil
}

// retire detaches pr's programs, moves what its ring still holds into the
// pipeline (until its counters add up, as at the end of a run), sends the
// batch, frees the programs and ring, and returns their final counters.
// The change is made whatever the error says (a detach that failed, a
// ring that could not be read): the caller logs it.
func (r *reader) retire(pr *probeRing) (probe.Stats, error) {
	var errs []error
	if err := pr.p.Detach(); err != nil {
		errs = append(errs, fmt.Errorf("detach probe plugin %s: %w", pr.p.Name(), err))
	}
	s := pr.last
	for try := 0; ; try++ {
		if err := r.readProbes(); err != nil {
			errs = append(errs, err)
			break
		}
		cur, err := pr.p.Stats()
		if err != nil {
			errs = append(errs, err)
			break
		}
		if s = cur; s.Emitted == s.Lost+pr.gen || try == 20 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.send()
	pr.rg.close()
	errs = append(errs, pr.p.Close())
	return s, errors.Join(errs...)
}
