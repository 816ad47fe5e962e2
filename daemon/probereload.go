package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/plugins"
	"github.com/ainka/ainka/plugins/probe"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/source"
)

// probeManager keeps a live daemon's probe plugins: what runs is the live
// source's (ProbeStats), the kinds the stages follow are reg's, and
// refused is what the last (re)load refused. SIGHUP reloads them (reload).
type probeManager struct {
	mu      sync.Mutex
	dirs    []string
	live    *source.Live
	reg     *spec.Registry
	refused []control.Plugin
	// runTime holds BPF run-time statistics enabled while a probe plugin
	// is loaded (its CPU time); nil otherwise.
	runTime io.Closer
	log     *slog.Logger
}

var (
	errProbeNoNumber = errors.New("no free probe kind number")
)

// probeOp is one change a reload makes to the live source.
type probeOp struct {
	kind uint16        // the running kind replaced or removed; 0 adds
	p    *probe.Loaded // nil removes kind
}

// running is a probe plugin the source reads.
type running struct {
	kind uint16
	p    *probe.Plugin
}

// reload reads plugin_dirs again. An unchanged plugin keeps running as it
// is. A changed or new one is checked and loaded in full (manifest,
// object, verifier, attach) before anything running is touched; when that
// fails, the plugin of that directory keeps running as it was and the
// reason is logged and listed. A changed plugin of the same record layout
// and features is swapped live (the new programs attached, then the old
// detached; the kind's counters go on); one of another layout becomes a
// new kind (a new number: records of the old one may still be in flight),
// whose features keep their names and models. A removed plugin is
// detached, its ring drained.
func (m *probeManager) reload(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dirs := probe.Dirs(m.dirs)
	run := map[string]running{}
	names := map[string]string{} // plugin name → its directory
	for _, s := range m.live.ProbeStats() {
		run[s.Plugin.Dir] = running{kind: s.Kind, p: s.Plugin}
		if slices.Contains(dirs, s.Plugin.Dir) {
			names[s.Name] = s.Plugin.Dir
		}
	}
	set := m.reg.Load()
	taken := map[uint16]bool{}
	var kinds []spec.Kind
	var ops []probeOp
	var refused []control.Plugin
	for _, dir := range dirs {
		old, isRunning := run[dir]
		delete(run, dir)
		l, err := m.changed(dir, old, isRunning, set, taken, names, kinds)
		switch {
		case err != nil && isRunning:
			err = plugins.KeepsRunning(err, old.p.Manifest.Version)
			fallthrough
		case err != nil:
			m.log.Warn("probe plugin refused", "path", dir, "reason", err)
			refused = append(refused, plugins.ProbeRefused(dir, err))
		case l != nil && isRunning && l.Name() == old.p.Manifest.Name:
			// A swap, also to a new kind number (a new layout): the
			// plugin's counters go on.
			ops = append(ops, probeOp{kind: old.kind, p: l})
		case l != nil && isRunning:
			// Renamed: another plugin to the pipeline and the metrics.
			ops = append(ops, probeOp{kind: old.kind}, probeOp{p: l})
		case l != nil:
			ops = append(ops, probeOp{p: l})
		}
		switch {
		case l != nil:
			kinds, names[l.Name()], taken[l.KindNumber()] = append(kinds, l.Kind), dir, true
		case isRunning:
			kinds, names[old.p.Manifest.Name], taken[old.kind] = append(kinds, old.p.Kind), dir, true
		}
	}
	for dir, gone := range run {
		m.log.Info("probe plugin removed", "name", gone.p.Manifest.Name, "path", dir)
		ops = append(ops, probeOp{kind: gone.kind})
	}
	m.apply(ctx, set, kinds, ops)
	m.refused = refused
	m.holdRunTime()
}

// changed returns the plugin of dir loaded and attached when it is new or
// changed, nil when it is the running one unchanged, or why it cannot
// run. kinds are those that run before it.
func (m *probeManager) changed(dir string, old running, isRunning bool, set *spec.Set, taken map[uint16]bool, names map[string]string, kinds []spec.Kind) (*probe.Loaded, error) {
	if isRunning {
		if d, err := probe.Digest(dir); err == nil && d == old.p.Digest {
			return nil, nil
		}
	}
	if len(kinds) >= spec.MaxKinds {
		return nil, fmt.Errorf("%w: at most %d probe plugins run", errProbeTooMany, spec.MaxKinds)
	}
	k := old.kind
	if !isRunning {
		k = freeKind(set, taken)
	}
	p, err := probe.Open(dir, max(k, spec.KindBase), "")
	if err != nil {
		return nil, err
	}
	if other, ok := names[p.Manifest.Name]; ok && other != dir {
		return nil, fmt.Errorf("%w: %s is also %s", errProbeTwice, p.Manifest.Name, other)
	}
	if isRunning && !spec.SameLayout(&p.Kind, &old.p.Kind) {
		// Another record layout or other features: a new kind.
		k = freeKind(set, taken)
		p.Kind.Kind = k
	}
	if k == 0 {
		return nil, fmt.Errorf("%w: this run used all %d (a kind's number is never reused in a run, nor kept across a change of its record layout or features): restart ainka to apply", errProbeNoNumber, spec.MaxKinds)
	}
	// The bounds of all kinds together (features, histograms).
	if _, err := spec.NewSet(append(slices.Clip(kinds), p.Kind)); err != nil {
		return nil, err
	}
	return p.Load(0)
}

// freeKind is a kind number neither set (nor a kind it retired) nor this
// reload uses; 0 when none is left.
func freeKind(set *spec.Set, taken map[uint16]bool) uint16 {
	for k := uint16(spec.KindBase); k < spec.KindBase+spec.MaxKinds; k++ {
		if !set.Used(k) && !taken[k] {
			return k
		}
	}
	return 0
}

// apply makes the stages follow kinds and the source make ops. The
// registry goes first, so that decode accepts a new kind's first records
// and still accepts a removed kind's last ones (retired).
func (m *probeManager) apply(ctx context.Context, set *spec.Set, kinds []spec.Kind, ops []probeOp) {
	if len(ops) == 0 {
		return
	}
	next, err := set.Next(kinds)
	if err != nil {
		m.log.Error("probe plugin reload failed; the running probe plugins stay as they were", "err", err)
		for _, op := range ops {
			if op.p != nil {
				op.p.Close()
			}
		}
		return
	}
	m.reg.Store(next)
	for _, op := range ops {
		if err := m.live.ChangeProbe(ctx, op.kind, op.p); err != nil {
			m.log.Error("probe plugin change", "kind", op.kind, "err", err)
			if op.p != nil && (errors.Is(err, source.ErrNotRunning) || errors.Is(err, source.ErrNoProbeKind) || ctx.Err() != nil) {
				op.p.Close()
			}
			continue
		}
		switch {
		case op.p == nil:
		case op.kind != 0:
			m.log.Info("probe plugin swapped", "name", op.p.Name(), "version", op.p.Manifest.Version, "kind", op.p.KindNumber(), "was", op.kind, "path", op.p.Dir)
		default:
			m.log.Info("probe plugin loaded", "name", op.p.Name(), "version", op.p.Manifest.Version, "kind", op.p.KindNumber(), "path", op.p.Dir)
		}
	}
}

// holdRunTime keeps BPF run-time statistics enabled while a probe plugin
// runs (their CPU time in `ainka-cli plugins`), and only then: they cost
// every BPF program on the host two clock reads per run.
func (m *probeManager) holdRunTime() {
	n := len(m.live.ProbeStats())
	switch {
	case n > 0 && m.runTime == nil:
		c, err := probe.EnableRunTime()
		if err != nil {
			m.log.Warn("probe plugins' CPU time unavailable", "err", err)
			return
		}
		m.runTime = c
	case n == 0 && m.runTime != nil:
		m.runTime.Close()
		m.runTime = nil
	}
}

// close stops holding BPF run-time statistics.
func (m *probeManager) close() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.runTime != nil {
		m.runTime.Close()
		m.runTime = nil
	}
}

// status lists the running probe plugins with their records counted as
// the built-in kinds' are and their programs' CPU time, then the refused
// ones (`ainka-cli plugins`).
func (m *probeManager) status() []control.Plugin {
	m.mu.Lock()
	refused := slices.Clone(m.refused)
	m.mu.Unlock()
	return probeStatus(m.live, refused)
}
