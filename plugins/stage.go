package plugins

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/plugins/wasm"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/tune"
)

// PolicyPrefix starts the policy name of a tuner plugin's decisions.
const PolicyPrefix = "plugin:"

// Predict wraps the predict stage's processor: every Output gets the
// detector plugins' scores.
func (s *Set) Predict(p pipeline.Processor[features.Vector, predict.Output]) pipeline.Processor[features.Vector, predict.Output] {
	return &predictStage{p: p, s: s}
}

type predictStage struct {
	p      pipeline.Processor[features.Vector, predict.Output]
	s      *Set
	scores [wasm.MaxScores]float64
}

func (w *predictStage) Process(in []features.Vector, out []predict.Output) []predict.Output {
	n := len(out)
	out = w.p.Process(in, out)
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	for i := n; i < len(out); i++ {
		w.s.detect(&out[i], w.scores[:])
	}
	return out
}

// detect adds every enabled detector's scores to o (as many as fit).
func (s *Set) detect(o *predict.Output, scores []float64) {
	for _, e := range s.mods {
		if e.off || e.mod.Info.Kind != wasm.Detector || len(e.names)+o.NPlugin > predict.MaxPluginScores {
			continue
		}
		if err := e.mod.Detect(&o.Vector, scores); err != nil {
			s.failed(e, err)
			continue
		}
		for k, name := range e.names {
			o.Plugin[o.NPlugin] = predict.PluginScore{Name: name, Score: scores[k]}
			o.NPlugin++
		}
	}
}

// Tune wraps the tune stage's processor: every tuner plugin sees each
// window's features, and its proposals join the window's decisions (those
// that do not fit wait for the next windows, in order).
func (s *Set) Tune(p pipeline.Processor[predict.Output, tune.Window]) pipeline.Processor[predict.Output, tune.Window] {
	return &tuneStage{p: p, s: s, pending: make([]decide.Decision, 0, 16)}
}

type tuneStage struct {
	p       pipeline.Processor[predict.Output, tune.Window]
	s       *Set
	props   []wasm.Proposal
	pending []decide.Decision
}

func (w *tuneStage) Process(in []predict.Output, out []tune.Window) []tune.Window {
	n := len(out)
	out = w.p.Process(in, out)
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	for i := n; i < len(out); i++ {
		win := &out[i]
		w.propose(&win.Out.Vector)
		k := copy(win.Dec[win.NDec:], w.pending)
		win.NDec += k
		w.pending = w.pending[:copy(w.pending, w.pending[k:])]
		win.Deferred += len(w.pending)
	}
	return out
}

func (w *tuneStage) Flush(out []tune.Window) []tune.Window {
	if f, ok := w.p.(pipeline.Flusher[tune.Window]); ok {
		return f.Flush(out)
	}
	return out
}

// propose asks every enabled tuner and queues its proposals as decisions
// (a full queue drops the newest: the pipeline never waits for plugins).
func (w *tuneStage) propose(v *features.Vector) {
	for _, e := range w.s.mods {
		if e.off || e.mod.Info.Kind != wasm.Tuner {
			continue
		}
		var err error
		w.props, err = e.mod.Tune(v, w.props[:0])
		if err != nil {
			w.s.failed(e, err)
			continue
		}
		for _, p := range w.props {
			if len(w.pending) < cap(w.pending) {
				w.pending = append(w.pending, w.s.decision(e, v.EndNs, p))
			}
		}
	}
}

// decision makes a proposal an Apply decision, or advice when the set
// may not act.
func (s *Set) decision(e *entry, now uint64, p wasm.Proposal) decide.Decision {
	why := p.Reason
	if why == "" {
		why = "proposed"
	}
	d := decide.Decision{TimeNs: now, Kind: decide.Apply, Policy: PolicyPrefix + e.mod.Info.Name, Action: p.Action,
		Reason: p.Action.Source + ": " + why}
	if !s.opts.Act {
		d.Action = action.Action{Kind: action.Notify, Source: "notify"}
		d.Reason = "advice: would " + d.Reason
	}
	return d
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
