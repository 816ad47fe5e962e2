package plugins_test

import (
	"testing"

	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/plugins"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

// BenchmarkPredictWindow is the predict stage's cost per window, alone
// and with the example detector plugin after it, in one run: the
// plugin's share of a window's scoring.
//
//	go test -run '^$' -bench PredictWindow ./plugins
func BenchmarkPredictWindow(b *testing.B) {
	for _, tc := range []struct {
		name    string
		plugins []string
	}{{"builtin", nil}, {"builtin+pressure", []string{"pressure"}}} {
		b.Run(tc.name, func(b *testing.B) {
			st, err := predict.New(predict.DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			var p pipeline.Processor[features.Vector, predict.Output] = st
			if tc.plugins != nil {
				dir := b.TempDir()
				for _, n := range tc.plugins {
					copyFile(b, built[n], dir+"/"+n+".wasm")
				}
				s := open(b, plugins.Options{Dirs: []string{dir}})
				p = s.Predict(st)
			}
			vs := vectors(1000)
			out := make([]predict.Output, 0, 1)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				v := vs[i%len(vs)]
				v.StartNs, v.EndNs = uint64(i)*100e6, uint64(i+1)*100e6
				out = p.Process([]features.Vector{v}, out[:0])
			}
		})
	}
}
