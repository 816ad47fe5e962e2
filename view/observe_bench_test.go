package view_test

import (
	"testing"
	"unsafe"

	"github.com/ainka/ainka/stages/actuate"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/view"
)

// BenchmarkObserveWindow is the observers' work per window of 100 ms
// (one predict output, no decision, no change): what watching adds on
// the stages' goroutines, per window and not per event.
func BenchmarkObserveWindow(b *testing.B) {
	r := view.NewRecorder(view.Sources{})
	outs := []predict.Output{window(1, 5, 0.2)}
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i++
		outs[0].Vector.EndNs = i * 100_000_000
		r.ObservePredict(outs)
		r.ObserveDecisions([]decide.Decision{})
		r.ObserveResults([]actuate.Result{})
	}
	b.ReportMetric(float64(unsafe.Sizeof(outs[0])), "output-bytes")
}
