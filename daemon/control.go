package daemon

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/buildinfo"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/kmod/genl"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/plugins"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/stages/tune"
	"github.com/ainka/ainka/view"
)

// Controller is the running daemon as the control API sees it. It only
// reads snapshots and calls the stages' own goroutine-safe methods, so
// every request answers at once even when the pipeline is saturated.
type Controller struct {
	mode    string // live or replay
	started time.Time
	dryRun  bool

	p       *pipeline.Pipeline
	set     *metrics.Set
	live    *source.Live // nil in replay
	pred    *predict.Stage
	dec     *decide.Stage
	act     *actuate.Stage
	tune    *tune.Stage
	kernel  genl.Client // nil when the module is not loaded
	view    *view.Recorder
	plugins *plugins.Set // nil without a configuration
	// probes are a live run's probe plugins; probeRefused those refused
	// at the start of a run without a live source (nil probes).
	probes       *probeManager
	probeRefused []control.Plugin

	requests atomic.Uint64 // the last Optimize request's number
}

// NewController serves the chain to the control API; live and kernel may
// be nil (a replay, no module).
func NewController(c *Chain, mode string, dryRun bool, live *source.Live, kernel genl.Client) *Controller {
	if live != nil {
		c.watchRing(live)
	}
	ctl := &Controller{mode: mode, started: time.Now(), dryRun: dryRun, p: c.Pipeline, set: c.Pipeline.Metrics(),
		live: live, pred: c.Predict, dec: c.Decide, act: c.Actuate, tune: c.Tune, kernel: kernel, view: c.View,
		plugins: c.Plugins, probeRefused: c.ProbeRefused}
	if live != nil {
		ctl.probes = &probeManager{live: live, reg: c.ProbeKinds, refused: c.ProbeRefused, log: c.log}
		if c.Plugins != nil {
			ctl.probes.dirs = c.Plugins.Dirs()
		}
		ctl.probes.mu.Lock()
		ctl.probes.holdRunTime()
		ctl.probes.mu.Unlock()
		status := ctl.probes.status
		c.probeStatus.Store(&status)
	}
	return ctl
}

var (
	_ control.Daemon       = (*Controller)(nil)
	_ control.Snapshotter  = (*Controller)(nil)
	_ control.PluginLister = (*Controller)(nil)
	_ control.Explainer    = (*Controller)(nil)
	_ control.Tuner        = (*Controller)(nil)
)

// Tuners is the tune stage's state: `ainka-cli tuners`.
func (d *Controller) Tuners(context.Context) (tune.Status, error) { return d.tune.Status(), nil }

// Explain is every change AINKA made to knob since it started.
func (d *Controller) Explain(_ context.Context, knob string) (view.Explanation, error) {
	e, ok := d.view.Explain(knob)
	if !ok {
		return e, fmt.Errorf("%w: AINKA has not changed %s since it started (knobs are named as in status: sysctl:vm.swappiness, or vm.swappiness)", control.ErrNotFound, knob)
	}
	return e, nil
}

// Snapshot is what `ainka-cli top` shows.
func (d *Controller) Snapshot(context.Context) (view.Snapshot, error) { return d.view.Snapshot(), nil }

func (d *Controller) Status(ctx context.Context) (control.Status, error) {
	st := d.dec.State()
	s := control.Status{
		State:     st.State,
		Mode:      d.mode,
		Version:   buildinfo.Read(bpf.ObjectHash()).Short(),
		PID:       os.Getpid(),
		StartedAt: d.started,
		DryRun:    d.dryRun,
		Emergency: st.Emergency,
		Policies:  st.Policies,
		Knobs:     []control.KnobChange{},
	}
	s.Learning.Windows = d.pred.Processed()
	s.Learning.DetectorsWarm, s.Learning.Detectors = d.pred.Warm()
	if st.SinceNs != 0 && st.LastWindowNs >= st.SinceNs { // 0: the state the engine started in
		s.Learning.StateSinceSec = float64(st.LastWindowNs-st.SinceNs) / 1e9
	}
	for _, c := range d.act.Changes() {
		s.Knobs = append(s.Knobs, control.KnobChange{Knob: c.Key, Target: c.Target, Original: c.Original, Current: c.Value,
			Policy: c.Policy, Why: c.Why, Since: c.Since})
	}
	for _, ps := range d.p.Stats() {
		s.Stages = append(s.Stages, control.StageStatus{
			Name: ps.Name, In: ps.In, Out: ps.Out, Dropped: ps.Dropped,
			QueueLen: ps.QueueLen, QueueCap: ps.QueueCap,
		})
	}
	if d.live != nil {
		ks := d.live.Stats()
		for k := range ks {
			if ks[k].Emitted == 0 && ks[k].Seen == 0 {
				continue
			}
			s.Ring = append(s.Ring, control.KindStats{
				Kind: record.Kind(k).String(), Seen: ks[k].Seen, Emitted: ks[k].Emitted, Lost: ks[k].Lost,
			})
		}
	}
	if d.kernel != nil {
		s.KernelModule.Loaded = true
		if ks, err := d.kernel.Status(ctx); err == nil {
			s.KernelModule.State = ks.State.String()
		} else {
			s.KernelModule.State = "error: " + err.Error()
		}
	} else {
		s.KernelModule.State = "not loaded: actuating from user space"
	}
	return s, nil
}

func (d *Controller) Metrics(_ context.Context, w io.Writer) error {
	return WriteMetrics(w, d.set)
}

func (d *Controller) AddPolicy(_ context.Context, ps control.PolicySpec) error {
	p := decide.Policy{
		Name: ps.Name, Condition: ps.Condition, Action: ps.Action,
		Priority: ps.Priority, Enabled: true, Objective: ps.Objective, Origin: "api",
	}
	if p.Priority == 0 {
		p.Priority = decide.DefaultPriority
	}
	if ps.Cooldown != "" {
		cd, err := time.ParseDuration(ps.Cooldown)
		if err != nil {
			return fmt.Errorf("%w: cooldown %q: %v", control.ErrInvalid, ps.Cooldown, err)
		}
		p.Cooldown = cd
	}
	if err := d.dec.AddPolicy(p); err != nil {
		return fmt.Errorf("%w: %v", control.ErrInvalid, err)
	}
	return nil
}

func (d *Controller) ListPolicies(context.Context) ([]control.Policy, error) {
	var out []control.Policy
	for _, ps := range d.dec.Policies() {
		src := "file"
		if ps.Origin == "api" {
			src = "api"
		}
		eff := ps.Effectiveness
		if math.IsNaN(eff) {
			eff = 0
		}
		out = append(out, control.Policy{
			Name: ps.Name, Condition: ps.Condition, Action: ps.Action,
			Priority: ps.Priority, Enabled: ps.Enabled, Source: src,
			State: ps.State, Reason: ps.PausedReason, Effectiveness: eff,
			Fired: uint64(ps.Actuations),
		})
	}
	return out, nil
}

func (d *Controller) RemovePolicy(_ context.Context, name string) error {
	if err := d.dec.RemovePolicy(name); err != nil {
		return fmt.Errorf("%w: %v", control.ErrNotFound, err)
	}
	return nil
}

// optimizeTimeout bounds the wait for the next window, which serves an
// Optimize request (a stalled source would otherwise hang the command).
const optimizeTimeout = 10 * time.Second

// Optimize asks decide for an evaluation now. The decisions go down the
// pipeline like any other (taps see them, actuate applies them); actuate
// hands back the results of this request's decisions, every knob of them.
func (d *Controller) Optimize(ctx context.Context) (control.OptimizeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, optimizeTimeout)
	defer cancel()
	id := d.requests.Add(1)
	results := d.act.Expect(id)
	defer d.act.Forget(id)
	req, err := d.dec.Optimize(id)
	if err != nil {
		return control.OptimizeResult{}, fmt.Errorf("%w: %v", control.ErrConflict, err)
	}
	ds, err := req.Wait(ctx)
	if err != nil {
		return control.OptimizeResult{}, err
	}
	var rs []actuate.Result
	switch {
	case len(ds) == 0:
	case !req.InPipeline():
		rs = d.act.Apply(ds) // the pipeline has ended: a held replay
	default:
		select {
		case rs = <-results:
		case <-ctx.Done():
			return control.OptimizeResult{}, fmt.Errorf("wait for the actuate stage: %w", ctx.Err())
		}
	}
	res := control.OptimizeResult{State: d.dec.State().State, DryRun: d.dryRun}
	for i := range ds {
		res.Decisions = append(res.Decisions, optimizeDecision(&ds[i], rs))
	}
	for _, c := range req.Checks() {
		res.Policies = append(res.Policies, control.PolicyCheck{Policy: c.Policy, Matched: c.Matched, Why: c.Why})
	}
	return res, nil
}

// optimizeDecision reports one decision with the changes actuate made
// for it (found among rs by policy).
func optimizeDecision(d *decide.Decision, rs []actuate.Result) control.Decision {
	dd := control.Decision{Policy: d.Policy, Matched: d.Kind == decide.Apply, Reason: d.Explain(), Action: d.Action.String()}
	var errs []string
	all := true // every change written
	for j := range rs {
		r := &rs[j]
		if r.Policy != d.Policy || r.Kind != d.Kind {
			continue
		}
		dd.Changes = append(dd.Changes, control.Change{Knob: r.Knob, From: r.Old, To: r.New})
		all = all && r.Status == actuate.Applied
		if r.Err != "" {
			errs = append(errs, r.Err)
		}
	}
	dd.Applied = len(dd.Changes) > 0 && all
	dd.Error = strings.Join(errs, "; ")
	return dd
}

// SetEmergency forces emergency mode. The engine announces the state change
// with the next window, and actuate mirrors it to the kernel module like any
// other state change, so there is one path to the module, not two.
func (d *Controller) SetEmergency(_ context.Context, on bool) error {
	d.dec.SetEmergency(on)
	return nil
}

func (d *Controller) Reset(ctx context.Context) (control.ResetResult, error) {
	var res control.ResetResult
	d.pred.Reset()
	d.view.Reset()
	res.Cleared = append(res.Cleared, "anomaly baselines and forecasters")
	d.dec.Reset()
	res.Cleared = append(res.Cleared, "policy engine state and effectiveness")
	for _, r := range d.act.Reset() {
		res.Reverted = append(res.Reverted, control.Change{Knob: r.Knob, From: r.Old, To: r.New})
	}
	if d.kernel != nil {
		if err := d.kernel.Reset(ctx); err != nil {
			return res, fmt.Errorf("reset the kernel module: %w", err)
		}
		res.Cleared = append(res.Cleared, "kernel module state and actuations")
	}
	return res, nil
}

func (d *Controller) Rollback(_ context.Context, printOnly bool) (control.RollbackResult, error) {
	var res control.RollbackResult
	if printOnly {
		for _, c := range d.act.Changes() {
			res.Restored = append(res.Restored, control.Change{Knob: c.Key, From: c.Value, To: c.Original})
		}
		// An empty list, not none: "nothing to roll back" is an answer.
		res.Commands = append([]string{}, d.act.RollbackCommands()...)
		return res, nil
	}
	for _, r := range d.act.Rollback() {
		res.Restored = append(res.Restored, control.Change{Knob: r.Knob, From: r.Old, To: r.New})
	}
	// The operator put the host back: the policies must not change it
	// again at the next window (docs/actuate.md, the lifecycle).
	d.dec.PauseAll("rolled back by the operator; 'ainka-cli reset' lets it act again")
	return res, nil
}
