package wasm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/ainka/ainka/stages/features"
)

// ABIVersion is the plugin ABI this host implements (docs/plugins.md).
const ABIVersion = 1

// The ABI's exports (docs/plugins.md).
const (
	exportABI    = "ainka_abi_version" // () -> i32
	exportInfo   = "ainka_info"        // () -> i64: ptr<<32 | len of the info JSON
	exportBuffer = "ainka_buffer"      // (size i32) -> i32: ptr of a buffer of size bytes
	exportDetect = "ainka_detect"      // (end_ns i64) -> i32: number of scores written
	exportTune   = "ainka_tune"        // (end_ns i64) -> i64: ptr<<32 | len of the proposals
	exportInit   = "_initialize"       // a WASI reactor's initialiser, when present
	wasiModule   = "wasi_snapshot_preview1"
)

// Bounds of what a plugin may describe and return.
const (
	MaxInfoBytes     = 16 << 10
	MaxFeatures      = 256
	MaxScores        = 16
	MaxProposals     = 4
	MaxProposalBytes = 4 << 10
)

// Sentinel errors; the errors Load and the calls return wrap one of them.
var (
	ErrABI      = errors.New("plugin ABI")                 // missing export, other version, bad info
	ErrImport   = errors.New("plugin import")              // imports what AINKA does not provide
	ErrTrap     = errors.New("plugin trapped")             // a trap, a panic, an exit, out of memory
	ErrTimeout  = errors.New("plugin call time limit")     // ran past Limits.CallTimeout
	ErrGarbage  = errors.New("plugin returned garbage")    // a result outside the ABI's bounds
	ErrDisabled = errors.New("plugin disabled")            // an earlier failure disabled it
	ErrKind     = errors.New("plugin is not of this kind") // Detect on a tuner, Tune on a detector
)

// Kind is what a plugin does.
type Kind string

const (
	Detector Kind = "detector"
	Tuner    Kind = "tuner"
)

// Info is what a plugin says about itself (the JSON of ainka_info).
type Info struct {
	ABI         int      `json:"abi"`
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Kind        Kind     `json:"kind"`
	Description string   `json:"description"`
	Features    []string `json:"features"` // the inputs, in the order the plugin reads them
	Scores      []string `json:"scores"`   // a detector's outputs, in order
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// parseInfo decodes and checks the info JSON, and resolves the features.
func parseInfo(b []byte) (Info, []features.ID, error) {
	var in Info
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&in); err != nil {
		return in, nil, fmt.Errorf("%w: info: %v", ErrABI, err)
	}
	if in.ABI != ABIVersion {
		return in, nil, fmt.Errorf("%w: info declares ABI %d, this AINKA implements %d", ErrABI, in.ABI, ABIVersion)
	}
	if !nameRE.MatchString(in.Name) {
		return in, nil, fmt.Errorf("%w: name %q: want 1-32 of a-z, 0-9, _ starting with a letter", ErrABI, in.Name)
	}
	if in.Version == "" {
		return in, nil, fmt.Errorf("%w: %s: no version", ErrABI, in.Name)
	}
	if err := checkKind(&in); err != nil {
		return in, nil, err
	}
	ids, err := resolveFeatures(in.Features)
	if err != nil {
		return in, nil, fmt.Errorf("%w: %s: %v", ErrABI, in.Name, err)
	}
	return in, ids, nil
}

func checkKind(in *Info) error {
	switch in.Kind {
	case Detector:
		if len(in.Scores) == 0 || len(in.Scores) > MaxScores {
			return fmt.Errorf("%w: %s: a detector declares 1 to %d scores, not %d", ErrABI, in.Name, MaxScores, len(in.Scores))
		}
		for _, s := range in.Scores {
			if !nameRE.MatchString(s) {
				return fmt.Errorf("%w: %s: score name %q: want 1-32 of a-z, 0-9, _ starting with a letter", ErrABI, in.Name, s)
			}
		}
	case Tuner:
		if len(in.Scores) != 0 {
			return fmt.Errorf("%w: %s: a tuner declares no scores", ErrABI, in.Name)
		}
	default:
		return fmt.Errorf("%w: %s: kind %q: want %q or %q", ErrABI, in.Name, in.Kind, Detector, Tuner)
	}
	return nil
}

func resolveFeatures(names []string) ([]features.ID, error) {
	if len(names) == 0 || len(names) > MaxFeatures {
		return nil, fmt.Errorf("declares %d features, want 1 to %d", len(names), MaxFeatures)
	}
	ids := make([]features.ID, len(names))
	for i, n := range names {
		id, ok := features.Lookup(n)
		if !ok {
			return nil, fmt.Errorf("unknown feature %q", n)
		}
		ids[i] = id
	}
	return ids, nil
}
