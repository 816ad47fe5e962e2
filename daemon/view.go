package daemon

import (
	"fmt"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/stages/tune"
	"github.com/ainka/ainka/view"
)

// newView is the chain's view recorder: it reads the pipeline's counters,
// decide's state and actuate's open changes, and (viewWrappers) sees
// predict's, decide's and actuate's outputs.
func (c *Chain) newView(o ChainOptions, dryRun bool) {
	mode := "replay"
	if o.Live {
		mode = "live"
	}
	c.View = view.NewRecorder(view.Sources{Mode: mode, DryRun: dryRun, Pipeline: c.Pipeline, ProbeNames: c.probeNames,
		Engine: c.Decide.State, Knobs: c.Actuate.Changes, Tuners: c.Tune.Status, Policies: c.Decide.Policies})
}

func (c *Chain) viewWrappers() []Wrapper {
	return []Wrapper{
		WrapStage("predict", func(p pipeline.Processor[features.Vector, predict.Output]) pipeline.Processor[features.Vector, predict.Output] {
			return view.Observe(p, c.View.ObservePredict)
		}),
		WrapStage("decide", func(p pipeline.Processor[tune.Window, decide.Decision]) pipeline.Processor[tune.Window, decide.Decision] {
			return view.Observe(p, c.View.ObserveDecisions)
		}),
		WrapStage("actuate", func(p pipeline.Processor[decide.Decision, actuate.Result]) pipeline.Processor[decide.Decision, actuate.Result] {
			return view.Observe(p, c.View.ObserveResults)
		}),
	}
}

// watchLog lets the view show the log's last warnings (it hides stderr
// while it owns the screen); ring may be nil.
func (c *Chain) watchLog(ring *control.LogRing) {
	if ring == nil {
		return
	}
	c.View.Watch(func() []string {
		es, _ := ring.Since(time.Time{})
		var out []string
		for _, e := range es {
			if e.Level == "WARN" || e.Level == "ERROR" {
				out = append(out, fmt.Sprintf("%s %s %s %v", e.Time.Format("15:04:05"), e.Level, e.Msg, e.Attrs))
			}
		}
		return out[max(len(out)-3, 0):]
	}, nil)
}

// watchRing lets the view show the live source's losses per kind and how
// full its ring buffer gets.
func (c *Chain) watchRing(live *source.Live) {
	c.View.WatchFill(live.RingFill)
	c.View.Watch(nil, func() []view.RingStats {
		st := live.Stats()
		var out []view.RingStats
		for k := range st {
			if st[k].Lost != 0 || st[k].Dropped != 0 {
				out = append(out, view.RingStats{Kind: record.Kind(k).String(), Lost: st[k].Lost, Dropped: st[k].Dropped})
			}
		}
		for _, p := range live.ProbeStats() {
			out = append(out, view.RingStats{Kind: p.Name, Lost: p.Lost, Dropped: p.Dropped})
		}
		return out
	})
}

// probeNames are the names of the probe plugin kinds the stages run now.
func (c *Chain) probeNames() []string {
	var out []string
	for _, k := range c.ProbeKinds.Load().Kinds() {
		out = append(out, k.Name)
	}
	return out
}
