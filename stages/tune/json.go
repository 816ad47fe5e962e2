package tune

import (
	"strconv"

	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/predict"
)

// AppendJSON appends the window as one JSON object for --tap tune: the
// window's times, its regime (and "new"/"return" when it changed), and
// the tuners' decisions. The predict output it carries is predict's tap.
func (w *Window) AppendJSON(b []byte) []byte {
	b = append(b, `{"start_ns":`...)
	b = strconv.AppendUint(b, w.Out.Vector.StartNs, 10)
	b = append(b, `,"end_ns":`...)
	b = strconv.AppendUint(b, w.Out.Vector.EndNs, 10)
	b = append(b, `,"regime":`...)
	b = strconv.AppendUint(b, uint64(w.Regime), 10)
	if w.Event != "" {
		b = append(b, `,"regime_event":`...)
		b = strconv.AppendQuote(b, w.Event)
	}
	b = append(b, `,"decisions":[`...)
	for i := 0; i < w.NDec; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = w.Dec[i].AppendJSON(b)
	}
	return append(b, "]}"...)
}

// decider is what the decide stage's processor does.
type decider interface {
	Process(in []predict.Output, out []decide.Decision) []decide.Decision
	Flush(out []decide.Decision) []decide.Decision
}

// Decide runs the decide stage on the tune stage's windows: each window's
// predict output goes to decide, and the tuners' decisions follow
// decide's own for that window, so that actuate receives both in event
// order.
type Decide struct {
	d   decider
	buf []predict.Output
}

// WithDecide wraps decide's processor for the stage after tune.
func WithDecide(d decider) *Decide { return &Decide{d: d, buf: make([]predict.Output, 1)} }

// Process implements pipeline.Processor.
func (p *Decide) Process(in []Window, out []decide.Decision) []decide.Decision {
	for i := range in {
		p.buf[0] = in[i].Out
		out = p.d.Process(p.buf, out)
		out = append(out, in[i].Dec[:in[i].NDec]...)
	}
	return out
}

// Flush implements pipeline.Flusher.
func (p *Decide) Flush(out []decide.Decision) []decide.Decision { return p.d.Flush(out) }
