package predict

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict/alarm"
	"github.com/ainka/ainka/stages/predict/anomaly"
	"github.com/ainka/ainka/stages/predict/forecast"
)

// Model file format, little endian: a fixed header (modelHeader) followed by
// the payload (modelState encoded with encoding/binary). The header carries
// a magic, the format version, the feature count, the payload size and its
// CRC-32C, so that a truncated, corrupted or foreign file is recognised
// before anything is decoded.
const (
	modelMagic   = "AINKAMDL"
	ModelVersion = 4
)

// Errors of Load and ReadModelInfo.
var (
	ErrCorrupt      = errors.New("model file is corrupted")
	ErrIncompatible = errors.New("model file is incompatible with this build")
	ErrNoModelPath  = errors.New("no model_path configured")
)

type modelHeader struct {
	Magic       [8]byte
	Version     uint32
	Features    uint32
	PayloadSize uint64
	CRC         uint32
	Horizon     uint32
	WindowNs    uint64
	Processed   uint64
	SavedUnixNs int64
}

// modelState is the payload: version 3's state and, since version 4,
// the neural forecasters'. Each older version's payload is a prefix of
// this one, decoded into the embedded part; what it lacks is learned
// afresh.
type modelState struct {
	modelStateV3
	Net [features.Count]forecast.NetState
}

// modelStateV3 is version 3's payload: version 2's and the host alarm's.
type modelStateV3 struct {
	modelStateV2
	Alarm alarm.State
}

// modelStateV2 is version 2's payload: everything but the host alarm,
// which a migrated model learns afresh (its warm-up).
type modelStateV2 struct {
	Det          [features.Count]anomaly.State
	Fc           [features.Count]forecast.State
	Joint        jointState
	JointDet     anomaly.State
	LastCommitNs uint64
	FirstDone    uint8
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Save writes the model to Config.ModelPath (see SaveTo).
func (s *Stage) Save() error {
	if s.cfg.ModelPath == "" {
		return fmt.Errorf("save model: %w", ErrNoModelPath)
	}
	return s.SaveTo(s.cfg.ModelPath)
}

// SaveTo writes the model to path crash-safely: a temporary file in the same
// directory, fsync, rename over path, fsync of the directory. A crash leaves
// either the old file or the new one, never a mix.
func (s *Stage) SaveTo(path string) error {
	s.mu.Lock()
	st := &modelState{}
	st.LastCommitNs = s.lastCommitNs
	for i := range s.det {
		st.Det[i] = s.det[i].S
		st.Fc[i] = s.fc[i].S
	}
	st.Joint = s.joint.S
	st.JointDet = s.joint.Det.S
	st.Alarm = s.host.S
	for i := range s.nn {
		st.Net[i] = s.nn[i].S
	}
	if s.firstDone {
		st.FirstDone = 1
	}
	var probes []byte
	if s.probes.set != nil || len(s.probes.saved) > 0 {
		var err error
		if probes, err = s.probes.encode(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	h := modelHeader{
		Version:     ModelVersion,
		Features:    uint32(features.Count),
		Horizon:     uint32(s.horizon),
		WindowNs:    uint64(s.cfg.Window.Nanoseconds()),
		Processed:   s.processed,
		SavedUnixNs: time.Now().UnixNano(),
	}
	s.mu.Unlock()

	b, err := encodeModel(&h, st)
	if err != nil {
		return err
	}
	if err := writeAtomic(path, b); err != nil || probes == nil {
		return err
	}
	return writeAtomic(ProbeModelPath(path), probes)
}

// encodeModel gives a model file's bytes: the header h (its size and CRC
// filled in here) and the state.
func encodeModel(h *modelHeader, st *modelState) ([]byte, error) {
	var payload bytes.Buffer
	payload.Grow(binary.Size(st))
	if err := binary.Write(&payload, binary.LittleEndian, st); err != nil {
		return nil, fmt.Errorf("save model: encode: %w", err)
	}
	copy(h.Magic[:], modelMagic)
	h.Version = ModelVersion // a migrated model is written in this version
	h.PayloadSize = uint64(payload.Len())
	h.CRC = crc32.Checksum(payload.Bytes(), castagnoli)
	var file bytes.Buffer
	if err := binary.Write(&file, binary.LittleEndian, h); err != nil {
		return nil, fmt.Errorf("save model: encode header: %w", err)
	}
	file.Write(payload.Bytes())
	return file.Bytes(), nil
}

// writeAtomic writes b to path crash-safely: a temporary file in the same
// directory, fsync, rename over path, fsync of the directory.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save model: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save model: fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save model: close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; not all filesystems support it
		d.Close()
	}
	return nil
}

// readModel reads and checks a model file.
func readModel(path string) (*modelHeader, *modelState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load model: %w", err)
	}
	return decodeModel(path, b)
}

// decodeModel checks and decodes a model file's bytes; path names it in
// errors.
func decodeModel(path string, b []byte) (*modelHeader, *modelState, error) {
	var h modelHeader
	hs := binary.Size(&h)
	if len(b) < hs {
		return nil, nil, fmt.Errorf("load model %s: %w: %d bytes, shorter than the %d-byte header", path, ErrCorrupt, len(b), hs)
	}
	if _, err := binary.Decode(b[:hs], binary.LittleEndian, &h); err != nil {
		return nil, nil, fmt.Errorf("load model %s: %w: %v", path, ErrCorrupt, err)
	}
	if string(h.Magic[:]) != modelMagic {
		return nil, nil, fmt.Errorf("load model %s: %w: not an AINKA model (bad magic %q)", path, ErrCorrupt, h.Magic[:])
	}
	st := &modelState{}
	// An older version's payload is decoded into the part of the state it
	// has (migration); the rest stays zero and Load starts it afresh.
	var dst any
	switch h.Version {
	case ModelVersion:
		dst = st
	case 3:
		dst = &st.modelStateV3
	case 2:
		dst = &st.modelStateV2
	default:
		return nil, nil, fmt.Errorf("load model %s: %w: format version %d, this build reads 2 to %d", path, ErrIncompatible, h.Version, ModelVersion)
	}
	want := binary.Size(dst)
	if h.Features != uint32(features.Count) || h.PayloadSize != uint64(want) {
		return nil, nil, fmt.Errorf("load model %s: %w: %d features and %d bytes of state, this build has %d and %d",
			path, ErrIncompatible, h.Features, h.PayloadSize, features.Count, want)
	}
	payload := b[hs:]
	if uint64(len(payload)) != h.PayloadSize {
		return nil, nil, fmt.Errorf("load model %s: %w: %d bytes of state, header says %d", path, ErrCorrupt, len(payload), h.PayloadSize)
	}
	if crc32.Checksum(payload, castagnoli) != h.CRC {
		return nil, nil, fmt.Errorf("load model %s: %w: checksum mismatch", path, ErrCorrupt)
	}
	if _, err := binary.Decode(payload, binary.LittleEndian, dst); err != nil {
		return nil, nil, fmt.Errorf("load model %s: %w: %v", path, ErrCorrupt, err)
	}
	if h.Version < 4 {
		// Migrated: the neural forecasters start from their initial
		// weights. Zero weights could never learn (every hidden unit
		// would stay the same), and a merge writes this state out.
		var n forecast.Net
		n.Reset()
		for i := range st.Net {
			st.Net[i] = n.S
		}
	}
	return &h, st, nil
}

// Load replaces the learned state with the model in path and the probe
// plugin features' models beside it (ProbeModelPath). On any error of the
// model file the stage is left as it was; an unusable probe models' file
// is set aside and reported by LoadError, and those features learn
// afresh. Forecasters saved with another horizon are
// started afresh (their pending forecasts would be for the wrong window);
// the anomaly models are kept.
func (s *Stage) Load(path string) error {
	h, st, err := readModel(path)
	if err != nil {
		return err
	}
	probes, perr := readProbeModels(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	// The probe features' models are bound by name at the next window.
	s.probes.set, s.probes.saved = nil, probes
	defer func() {
		if perr != nil {
			s.loadErr = setAside(ProbeModelPath(path), perr)
		}
	}()
	sameHorizon := int(h.Horizon) == s.horizon
	for i := range s.det {
		s.det[i].S = st.Det[i]
		if sameHorizon {
			s.fc[i].S = st.Fc[i]
		} else {
			s.fc[i].Reset()
		}
		if sameHorizon && h.Version >= 4 {
			s.nn[i].S = st.Net[i]
		} else {
			s.nn[i].Reset() // migrated or another horizon: learn afresh
		}
	}
	s.joint.S = st.Joint
	s.joint.Det.S = st.JointDet
	s.host.S = st.Alarm // zero from a format-2 file: the alarm relearns its warm-up
	s.lastCommitNs = st.LastCommitNs
	s.firstDone = st.FirstDone != 0
	s.processed = h.Processed
	s.loadErr = nil
	return nil
}

// ModelInfo describes a model file (for `ainka model info`).
type ModelInfo struct {
	Path      string
	Version   uint32
	Size      int64
	Window    time.Duration
	Horizon   int // forecast horizon in windows
	Processed uint64
	Saved     time.Time
	// Samples is how many values each feature's detector has learned from.
	Samples      [features.Count]int64
	JointSamples int64
}

// ReadModelInfo reads and checks the model file at path.
func ReadModelInfo(path string) (*ModelInfo, error) {
	h, st, err := readModel(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	mi := &ModelInfo{
		Path: path, Version: h.Version, Size: fi.Size(),
		Window: time.Duration(h.WindowNs), Horizon: int(h.Horizon),
		Processed: h.Processed, Saved: time.Unix(0, h.SavedUnixNs).UTC(),
		JointSamples: st.JointDet.N,
	}
	for i := range st.Det {
		mi.Samples[i] = st.Det[i].N
	}
	return mi, nil
}
