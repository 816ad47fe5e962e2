package view_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/view"
)

// TestRecorderProbeKinds: probe plugin kinds are shown after the built-in
// ones with their event rate, losses and drops, and a plugin that saw
// nothing is shown too (at zero), in the snapshot and the rendered view.
func TestRecorderProbeKinds(t *testing.T) {
	p := pipeline.New(pipeline.Options{})
	sys := p.Metrics().GetOrCreateCounter(`ainka_events_total{kind="syscall"}`)
	sig := p.Metrics().GetOrCreateCounter(`ainka_events_total{kind="signals"}`)
	var lost, dropped uint64
	r := view.NewRecorder(view.Sources{Pipeline: p, Probes: []string{"signals", "proclife"}, Ring: func() []view.RingStats {
		return []view.RingStats{{Kind: "signals", Lost: lost, Dropped: dropped}, {Kind: "proclife"}}
	}})
	t0 := time.Now()
	r.Tick(t0)
	sys.Add(4000)
	sig.Add(600)
	lost, dropped = 20, 10
	r.Tick(t0.Add(2 * time.Second))
	k := r.Snapshot().Kinds
	if len(k) != 3 || k[0].Kind != "syscall" || k[1].Kind != "signals" || k[1].PerSec != 300 || k[1].Total != 600 ||
		k[1].LostPerSec != 10 || k[1].DropsPerSec != 5 || k[2].Kind != "proclife" || k[2].Total != 0 {
		t.Fatalf("kinds %+v", k)
	}
	out := view.Render(r.Snapshot(), 120, 0, view.Plain)
	for _, want := range []string{"signals              300     600      10       5", "proclife               0       0       0       0"} {
		if !strings.Contains(out, want) {
			t.Errorf("view lacks %q:\n%s", want, out)
		}
	}
}
