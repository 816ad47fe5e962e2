// Package view is what a person sees of a running AINKA: a Snapshot of
// what the daemon sees (event rates, drops, queue fill), thinks (anomaly
// scores, forecasts, the engine's state) and changes (decisions, knobs),
// and the renderers that turn one into text.
//
// A Recorder fills snapshots. The daemon wraps the predict, decide and
// actuate processors with Observe so the recorder sees their outputs (a
// few items per 100 ms window, so the cost is one mutex per batch), and
// calls Tick once a second to turn cumulative counters into rates. The
// same Snapshot is served over the control socket (GET /v1/snapshot), so
// `ainka run` on a terminal, `ainka replay` and `ainka-cli top` show one
// view.
//
// Use:
//
//	r := view.NewRecorder(view.Sources{Mode: "live", Pipeline: p, ...})
//	pred := view.Observe(predictStage, r.ObservePredict)
//	go r.Run(ctx, time.Second)
//	s := r.Snapshot()
//	fmt.Print(view.Render(s, 100, view.Plain))
//	fmt.Print(view.Summary(s))
package view
