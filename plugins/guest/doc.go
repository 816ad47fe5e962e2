// Package guest is the plugin side of AINKA's logic-plugin ABI (version 1,
// docs/plugins.md) for plugins written in Go and compiled with the
// standard toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o spike.wasm .
//
// A plugin's main package registers itself in init and has an empty main
// (c-shared builds a WASI reactor: AINKA calls _initialize, then the
// exports this package defines with //go:wasmexport):
//
//	func init() {
//		guest.Detector(guest.Info{Name: "spike", Version: "1.0.0",
//			Features: []string{"cpu_busy_pct"}, Scores: []string{"cpu_spike"}},
//			func(endNs uint64, in, scores []float64) { scores[0] = in[0] / 100 })
//	}
//	func main() {}
//
// The package builds only for wasip1; on other platforms it is empty.
package guest
