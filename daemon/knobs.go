package daemon

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/tune"
)

// maxLedgerKnobs bounds the knobs the ledger follows (a series each).
const maxLedgerKnobs = 256

// knobLedger follows each knob AINKA changed, or in advice mode would
// have changed: its original value, its current (or proposed) one and the
// policy or tuner behind it. It is written as the series
// ainka_knob_change{knob,policy,original,current,status} = Unix time of
// the change, one per knob held changed, so a store that many hosts push
// to can show what was changed where (`ainka-cli fleet changes`). A
// restored knob leaves the ledger and its series ends.
type knobLedger struct {
	mu    sync.Mutex
	knobs map[string]knobChange
}

type knobChange struct {
	policy, original, current, status string
	at                                time.Time
}

func (l *knobLedger) record(r *actuate.Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case r.Kind == decide.Revert && (r.Status == actuate.Applied || r.Status == actuate.Restored || r.Status == actuate.DryRun):
		delete(l.knobs, r.Knob)
	case r.Kind == decide.Apply && (r.Status == actuate.Applied || r.Status == actuate.DryRun):
		c, ok := l.knobs[r.Knob]
		if !ok {
			if len(l.knobs) >= maxLedgerKnobs {
				return
			}
			c.original = r.Old
		}
		c.policy, c.current, c.status, c.at = r.Policy, r.New, r.Status.String(), time.Now()
		if l.knobs == nil {
			l.knobs = map[string]knobChange{}
		}
		l.knobs[r.Knob] = c
	}
}

// write writes the ledger in the Prometheus text format (a metrics writer
// of the chain's set: /metrics and the push both carry it).
func (l *knobLedger) write(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.knobs) == 0 {
		return
	}
	keys := make([]string, 0, len(l.knobs))
	for k := range l.knobs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "# HELP ainka_knob_change")
	fmt.Fprintln(w, "# TYPE ainka_knob_change gauge")
	for _, k := range keys {
		c := l.knobs[k]
		fmt.Fprintf(w, "ainka_knob_change{knob=\"%s\",policy=\"%s\",original=\"%s\",current=\"%s\",status=\"%s\"} %d\n",
			labelValue(k), labelValue(c.policy), labelValue(c.original), labelValue(c.current), c.status, c.at.Unix())
	}
}

// tunerGauges publishes each tuner's measured gain and its changes, read
// from its status when the metrics are written.
func tunerGauges(set *metrics.Set, t *tune.Stage) {
	for _, ts := range t.Status().Tuners {
		name := ts.Name
		get := func(f func(tune.TunerStatus) float64) func() float64 {
			return func() float64 {
				for _, s := range t.Status().Tuners {
					if s.Name == name {
						return f(s)
					}
				}
				return 0
			}
		}
		set.GetOrCreateGauge(fmt.Sprintf(`ainka_tuner_gain_pct{tuner=%q}`, name), get(func(s tune.TunerStatus) float64 { return s.GainPct }))
		set.GetOrCreateGauge(fmt.Sprintf(`ainka_tuner_changes{tuner=%q}`, name), get(func(s tune.TunerStatus) float64 { return float64(s.Changes) }))
	}
}
