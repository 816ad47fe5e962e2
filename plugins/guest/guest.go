//go:build wasip1

package guest

import (
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"
)

// ABIVersion is the plugin ABI this package implements.
const ABIVersion = 1

// Info describes a plugin; Detector and Tuner add the ABI version and kind.
type Info struct {
	Name        string
	Version     string
	Description string
	Features    []string // inputs, in the order fn reads them
	Scores      []string // a detector's outputs, in order
}

// json encodes the info as the ABI's JSON. It is written by hand because
// encoding/json would add a megabyte to every plugin.
func (in Info) json(kind string) []byte {
	b := []byte(`{"abi":`)
	b = strconv.AppendInt(b, ABIVersion, 10)
	for _, kv := range [][2]string{{"kind", kind}, {"name", in.Name}, {"version", in.Version}, {"description", in.Description}} {
		b = append(b, `,"`+kv[0]+`":`...)
		b = strconv.AppendQuoteToASCII(b, kv[1])
	}
	for _, kv := range []struct {
		k  string
		vs []string
	}{{"features", in.Features}, {"scores", in.Scores}} {
		b = append(b, `,"`+kv.k+`":[`...)
		for i, v := range kv.vs {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuoteToASCII(b, v)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

var (
	info   []byte
	buf    []byte
	out    []byte
	inputs []float64
	scores []float64
	detect func(endNs uint64, in, scores []float64)
	tune   func(endNs uint64, in []float64) []string
)

// Detector registers fn as the module's detector: for each window it reads
// the features named in info.Features (NaN when unknown) and writes one
// score in [0,1] (or NaN, no opinion) per info.Scores.
func Detector(in Info, fn func(endNs uint64, in, scores []float64)) {
	info = in.json("detector")
	detect, scores = fn, make([]float64, len(in.Scores))
}

// Tuner registers fn as the module's tuner: for each window it reads the
// features named in info.Features and returns its proposals, each an
// action of AINKA's policy language ("sysctl vm.swappiness -= 10"),
// optionally followed by "# why".
func Tuner(in Info, fn func(endNs uint64, in []float64) []string) {
	info = in.json("tuner")
	tune = fn
}

//go:wasmexport ainka_abi_version
func abiVersion() int32 { return ABIVersion }

//go:wasmexport ainka_info
func infoExport() int64 { return pack(info) }

//go:wasmexport ainka_buffer
func bufferExport(size int32) int32 {
	if size <= 0 || size > 1<<20 {
		return 0
	}
	buf = make([]byte, size)
	inputs = make([]float64, int(size)/8)
	return int32(uintptr(unsafe.Pointer(&buf[0])))
}

//go:wasmexport ainka_detect
func detectExport(endNs int64) int32 {
	if detect == nil {
		return -1
	}
	readInputs()
	detect(uint64(endNs), inputs, scores)
	for i, s := range scores {
		binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(s))
	}
	return int32(len(scores))
}

//go:wasmexport ainka_tune
func tuneExport(endNs int64) int64 {
	if tune == nil {
		return 0
	}
	readInputs()
	out = out[:0]
	for _, line := range tune(uint64(endNs), inputs) {
		out = append(out, line...)
		out = append(out, '\n')
	}
	return pack(out)
}

func readInputs() {
	for i := range inputs {
		inputs[i] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:]))
	}
}

func pack(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	return int64(uintptr(unsafe.Pointer(&b[0])))<<32 | int64(len(b))
}
