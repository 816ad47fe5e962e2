package tune

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
)

// Model file: a fixed header (magic, format version, payload size, CRC-32C
// of the payload) and a JSON payload (modelState). Version 2 adds the
// phased tuners' trials (Trial) to version 1's regimes and bests; a
// version 1 file is migrated (its bests kept, the old file copied to
// PATH.v1). A file of another version, or damaged, is set aside
// (PATH.bad) and learning starts afresh: it never stops the daemon.
const (
	modelMagic   = "AINKATUN"
	ModelVersion = 2
	// modelV1 is the format before trials were kept: regimes and bests,
	// the same JSON fields.
	modelV1 = 1
)

// Errors of the model file.
var (
	ErrModelCorrupt = errors.New("tuner model file is corrupted")
	ErrModelVersion = errors.New("tuner model file has another format version")
)

type modelHeader struct {
	Magic   [8]byte
	Version uint32
	Size    uint32
	CRC     uint32
}

type modelState struct {
	NextRegime uint32         `json:"next_regime"`
	Regimes    []regimeCentre `json:"regimes"`
	Best       []Best         `json:"best"`
	Trials     []Trial        `json:"trials,omitempty"` // version 2
	// Boot is the boot of the host the bests' SeenNs belong to (optional;
	// a file without it, or of another boot, has none that hold).
	Boot string `json:"boot,omitempty"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Save writes the model file now (the daemon calls it at exit).
func (s *Stage) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.ModelPath == "" {
		return nil
	}
	for _, t := range s.tuners {
		t.keepPartial(s) // a trial cut short by the exit still counts
	}
	return s.saveTo(s.cfg.ModelPath)
}

// saveTo writes crash-safely: temporary file, fsync, rename, fsync of the
// directory. Bests of regimes that were forgotten are dropped.
func (s *Stage) saveTo(path string) error {
	st := modelState{NextRegime: s.reg.nextID, Regimes: s.reg.list, Trials: s.trials(), Boot: s.boot}
	for _, b := range s.bests {
		if b.Regime == phaseRegime { // a phased family's: every regime's
			st.Best = append(st.Best, b)
			continue
		}
		for _, r := range s.reg.list {
			if r.ID == b.Regime {
				st.Best = append(st.Best, b)
				break
			}
		}
	}
	return writeModel(path, &st)
}

// writeModel encodes st and writes it crash-safely: temporary file,
// fsync, rename, fsync of the directory.
func writeModel(path string, st *modelState) error {
	payload, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode tuner model: %w", err)
	}
	h := modelHeader{Version: ModelVersion, Size: uint32(len(payload)), CRC: crc32.Checksum(payload, castagnoli)}
	copy(h.Magic[:], modelMagic)
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, &h)
	buf.Write(payload)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tuner model dir: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tuners-*")
	if err != nil {
		return fmt.Errorf("tuner model: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("write tuner model: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync tuner model: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close tuner model: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("install tuner model: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// load reads the model file. A missing file is a fresh start (nil); an
// unusable one is renamed PATH.bad and the reason returned.
func (s *Stage) load(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read tuner model: %w", err)
	}
	st, ver, err := decodeModel(b)
	if err != nil {
		if rerr := os.Rename(path, path+".bad"); rerr != nil {
			return fmt.Errorf("%s: %w (and could not set it aside: %v)", path, err, rerr)
		}
		return fmt.Errorf("%s: %w; set aside as %s.bad, learning afresh", path, err, path)
	}
	s.reg.nextID = st.NextRegime
	s.reg.list = append(s.reg.list[:0], st.Regimes...)
	s.bests = st.Best
	if st.Boot == "" || st.Boot != s.boot {
		// Event times restarted with the host: a workload seen at some
		// event time of another boot was not seen that long ago.
		for i := range s.bests {
			s.bests[i].SeenNs = 0
		}
	}
	s.restore(st.Trials)
	if ver == modelV1 {
		s.loadNote = s.migrate(path, b)
	}
	return nil
}

// migrate rewrites a version 1 model file in this version's format,
// keeping a copy of the old one (for a downgrade) as PATH.v1, and says
// what it did.
func (s *Stage) migrate(path string, old []byte) string {
	if err := os.WriteFile(path+".v1", old, 0o600); err != nil {
		return fmt.Sprintf("tuner model %s: format %d read (%d best settings kept, no trials); not rewritten: %v", path, modelV1, len(s.bests), err)
	}
	if err := s.saveTo(path); err != nil {
		return fmt.Sprintf("tuner model %s: format %d read (%d best settings kept, no trials); not rewritten: %v", path, modelV1, len(s.bests), err)
	}
	return fmt.Sprintf("tuner model %s: migrated from format %d to %d (%d best settings kept; the old file is %s.v1)", path, modelV1, ModelVersion, len(s.bests), path)
}

func decodeModel(b []byte) (*modelState, uint32, error) {
	var h modelHeader
	hs := binary.Size(h)
	if len(b) < hs {
		return nil, 0, fmt.Errorf("%w: %d bytes", ErrModelCorrupt, len(b))
	}
	binary.Read(bytes.NewReader(b), binary.LittleEndian, &h)
	if string(h.Magic[:]) != modelMagic {
		return nil, 0, fmt.Errorf("%w: not a tuner model (magic %q)", ErrModelCorrupt, h.Magic[:])
	}
	if h.Version != ModelVersion && h.Version != modelV1 {
		return nil, 0, fmt.Errorf("%w: version %d, this build reads %d and %d", ErrModelVersion, h.Version, modelV1, ModelVersion)
	}
	p := b[hs:]
	if uint32(len(p)) != h.Size || crc32.Checksum(p, castagnoli) != h.CRC {
		return nil, 0, fmt.Errorf("%w: payload size or checksum mismatch", ErrModelCorrupt)
	}
	var st modelState
	if err := json.Unmarshal(p, &st); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrModelCorrupt, err)
	}
	if err := st.check(h.Version); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrModelCorrupt, err)
	}
	return &st, h.Version, nil
}

func (st *modelState) check(version uint32) error {
	if len(st.Regimes) > MaxRegimes {
		return fmt.Errorf("%d regimes, at most %d", len(st.Regimes), MaxRegimes)
	}
	for _, r := range st.Regimes {
		if r.ID == 0 || r.ID > st.NextRegime {
			return fmt.Errorf("regime id %d", r.ID)
		}
	}
	if version == modelV1 && len(st.Trials) > 0 {
		return fmt.Errorf("format %d with trials (a format %d field)", modelV1, ModelVersion)
	}
	if len(st.Trials) > maxTrials {
		return fmt.Errorf("%d trials, at most %d", len(st.Trials), maxTrials)
	}
	for i := range st.Trials {
		if err := st.Trials[i].check(); err != nil {
			return err
		}
	}
	return nil
}
