//go:build wasip1

// import is a hostile detector: it imports a host function AINKA does not
// provide.
package main

import "github.com/ainka/ainka/plugins/guest"

//go:wasmimport env open_socket
func openSocket(port int32) int32

func init() {
	guest.Detector(guest.Info{Name: "import", Version: "0", Features: []string{"cpu_busy_pct"}, Scores: []string{"s"}},
		func(endNs uint64, in, scores []float64) { scores[0] = float64(openSocket(80)) })
}

func main() {}
