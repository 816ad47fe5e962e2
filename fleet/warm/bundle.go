package warm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/tune"
)

// Bundle format: the magic, a little-endian uint32 length, the JSON
// header, then the predict model file and the tuner model file, whose
// sizes and CRC-32C the header gives.
const (
	magic   = "AINKAWRM"
	Version = 1
	// MaxBundle bounds what is read (a model is about 100 KB).
	MaxBundle = 64 << 20
)

// Errors of Import.
var (
	ErrCorrupt      = errors.New("model bundle is corrupted")
	ErrIncompatible = errors.New("model bundle is incompatible with this host")
	ErrNoModel      = errors.New("no learned model to export")
)

// Facts are what an imported model must share with this host.
type Facts struct {
	Kernel string `json:"kernel"` // uname release
	CPUs   int    `json:"cpus"`
	Schema string `json:"feature_schema"` // hash of the feature names in order
}

// HostFacts are this host's facts.
func HostFacts() Facts {
	var u unix.Utsname
	unix.Uname(&u)
	return Facts{Kernel: unix.ByteSliceToString(u.Release[:]), CPUs: runtime.NumCPU(), Schema: Schema()}
}

// Schema names the feature vector: a hash of its names in order.
func Schema() string {
	h := sha256.New()
	for i := features.ID(0); i < features.Count; i++ {
		h.Write([]byte(i.String()))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

type header struct {
	Version     int       `json:"version"`
	Created     time.Time `json:"created"`
	Host        string    `json:"host"`
	Facts       Facts     `json:"facts"`
	PredictSize int       `json:"predict_size"`
	TunersSize  int       `json:"tuners_size"`
	CRC         uint32    `json:"crc32c"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Paths are this host's model files ([ml] model_path, [tuners] model_path).
type Paths struct{ Predict, Tuners string }

// Export bundles the model files at p (the tuners' is optional) with f.
func Export(p Paths, f Facts, host string) ([]byte, error) {
	pm, err := predict.ReadModelFile(p.Predict)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist (run the daemon with [ml] model_path set first)", ErrNoModel, p.Predict)
	}
	if err != nil {
		return nil, err
	}
	var tm []byte
	if p.Tuners != "" {
		tm, err = os.ReadFile(p.Tuners)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read tuner model: %w", err)
		}
		if err := tuneCheck(tm); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Tuners, err)
		}
	}
	payload := append(append([]byte(nil), pm...), tm...)
	h := header{Version: Version, Created: time.Now().UTC(), Host: host, Facts: f,
		PredictSize: len(pm), TunersSize: len(tm), CRC: crc32.Checksum(payload, castagnoli)}
	hj, err := json.Marshal(&h)
	if err != nil {
		return nil, fmt.Errorf("encode bundle header: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(magic)
	binary.Write(&b, binary.LittleEndian, uint32(len(hj)))
	b.Write(hj)
	b.Write(payload)
	return b.Bytes(), nil
}

func tuneCheck(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return tune.CheckModel(b)
}

// decode checks a bundle's framing and checksum and splits it.
func decode(b []byte) (*header, []byte, []byte, error) {
	if len(b) < len(magic)+4 || string(b[:len(magic)]) != magic {
		return nil, nil, nil, fmt.Errorf("%w: not an AINKA model bundle (no %q at its start)", ErrCorrupt, magic)
	}
	n := int(binary.LittleEndian.Uint32(b[len(magic):]))
	rest := b[len(magic)+4:]
	if n > len(rest) {
		return nil, nil, nil, fmt.Errorf("%w: header of %d bytes, %d left in the file", ErrCorrupt, n, len(rest))
	}
	var h header
	if err := json.Unmarshal(rest[:n], &h); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if h.Version != Version {
		return nil, nil, nil, fmt.Errorf("%w: bundle format version %d, this build reads %d", ErrIncompatible, h.Version, Version)
	}
	payload := rest[n:]
	if h.PredictSize < 0 || h.TunersSize < 0 || h.PredictSize+h.TunersSize != len(payload) {
		return nil, nil, nil, fmt.Errorf("%w: %d bytes of models, the header says %d + %d (truncated?)", ErrCorrupt, len(payload), h.PredictSize, h.TunersSize)
	}
	if crc32.Checksum(payload, castagnoli) != h.CRC {
		return nil, nil, nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return &h, payload[:h.PredictSize], payload[h.PredictSize:], nil
}

// compatible says why a model learned on a host with facts from cannot
// serve this one (nil: it can).
func compatible(from, here Facts) error {
	if from.Schema != here.Schema {
		return fmt.Errorf("%w: feature schema %s, this build's is %s (another AINKA version with other features)", ErrIncompatible, from.Schema, here.Schema)
	}
	if from.CPUs != here.CPUs {
		return fmt.Errorf("%w: learned on %d CPUs, this host has %d (per-CPU rates and latencies would not compare)", ErrIncompatible, from.CPUs, here.CPUs)
	}
	if kernelSeries(from.Kernel) != kernelSeries(here.Kernel) {
		return fmt.Errorf("%w: learned on kernel %s, this host runs %s (a different kernel series: %s vs %s)",
			ErrIncompatible, from.Kernel, here.Kernel, kernelSeries(from.Kernel), kernelSeries(here.Kernel))
	}
	return nil
}

// kernelSeries is a release's major.minor ("6.1" of "6.1.0-18-amd64").
func kernelSeries(release string) string {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return release
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	return parts[0] + "." + minor
}
