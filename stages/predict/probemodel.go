package predict

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"slices"

	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/predict/anomaly"
	"github.com/ainka/ainka/stages/predict/forecast"
)

// The probe plugin features' models are kept in a file of their own beside
// the model file (ProbeModelPath), so that the model file's format stays
// as it is and a model file without plugins is read as before. Little
// endian: probeModelHeader, then per feature a name (length byte, bytes),
// the forecast horizon (u32, windows), its anomaly.State and its
// forecast.State; the header's CRC-32C covers everything after it.
const (
	probeModelMagic   = "AINKAPRB"
	probeModelVersion = 1
)

type probeModelHeader struct {
	Magic   [8]byte
	Version uint32
	Count   uint32
	CRC     uint32
}

// probeModel is one probe feature's learned state.
type probeModel struct {
	Det anomaly.State
	Fc  forecast.State
	// horizon is the forecast horizon the model was learned for.
	horizon int
}

// ProbeModelPath is the file of the probe plugin features' models that
// goes with the model file at path.
func ProbeModelPath(path string) string { return path + ".probes" }

// bind makes the models follow set: each feature gets its saved model by
// name (the forecaster only when it was learned for this horizon), or
// starts afresh; the models of the previous set's features are saved by
// name first, so that a feature that comes back gets its own.
func (m *probeModels) bind(set *spec.Set) {
	m.stash()
	m.set = set
	for i, name := range set.FeatureNames() {
		m.det[i].Reset()
		m.fc[i].Reset()
		if pm, ok := m.saved[name]; ok {
			m.det[i].S = pm.Det
			if pm.horizon == m.horizon {
				m.fc[i].S = pm.Fc
			}
		}
	}
}

// stash keeps the current set's models in saved, by name.
func (m *probeModels) stash() {
	if m.saved == nil {
		m.saved = map[string]probeModel{}
	}
	for i, name := range m.set.FeatureNames() {
		m.saved[name] = probeModel{Det: m.det[i].S, Fc: m.fc[i].S, horizon: m.horizon}
	}
}

// encode is the file's bytes: the current and saved models.
func (m *probeModels) encode() ([]byte, error) {
	m.stash()
	names := make([]string, 0, len(m.saved))
	for n := range m.saved {
		names = append(names, n)
	}
	slices.Sort(names)
	var body bytes.Buffer
	for _, n := range names {
		if len(n) > 255 {
			continue // cannot happen: names are 1-32 + "." + 1-32
		}
		pm := m.saved[n]
		body.WriteByte(byte(len(n)))
		body.WriteString(n)
		body.Write(binary.LittleEndian.AppendUint32(nil, uint32(pm.horizon)))
		if err := binary.Write(&body, binary.LittleEndian, &pm.Det); err != nil {
			return nil, fmt.Errorf("save probe models: encode: %w", err)
		}
		if err := binary.Write(&body, binary.LittleEndian, &pm.Fc); err != nil {
			return nil, fmt.Errorf("save probe models: encode: %w", err)
		}
	}
	h := probeModelHeader{Version: probeModelVersion, Count: uint32(len(names)),
		CRC: crc32.Checksum(body.Bytes(), castagnoli)}
	copy(h.Magic[:], probeModelMagic)
	var file bytes.Buffer
	binary.Write(&file, binary.LittleEndian, &h)
	file.Write(body.Bytes())
	return file.Bytes(), nil
}

// decodeProbeModels checks and decodes the file's bytes; path names it in
// errors.
func decodeProbeModels(path string, b []byte) (map[string]probeModel, error) {
	var h probeModelHeader
	hs := binary.Size(&h)
	if len(b) < hs {
		return nil, fmt.Errorf("load probe models %s: %w: %d bytes, shorter than the %d-byte header", path, ErrCorrupt, len(b), hs)
	}
	binary.Decode(b[:hs], binary.LittleEndian, &h)
	if string(h.Magic[:]) != probeModelMagic {
		return nil, fmt.Errorf("load probe models %s: %w: bad magic %q", path, ErrCorrupt, h.Magic[:])
	}
	if h.Version != probeModelVersion {
		return nil, fmt.Errorf("load probe models %s: %w: format version %d, this build reads %d", path, ErrIncompatible, h.Version, probeModelVersion)
	}
	body := b[hs:]
	if crc32.Checksum(body, castagnoli) != h.CRC {
		return nil, fmt.Errorf("load probe models %s: %w: checksum mismatch", path, ErrCorrupt)
	}
	entry := 4 + binary.Size(anomaly.State{}) + binary.Size(forecast.State{})
	out := make(map[string]probeModel, h.Count)
	for range h.Count {
		if len(body) < 1 || len(body) < 1+int(body[0])+entry {
			return nil, fmt.Errorf("load probe models %s: %w: %d models promised, the file ends after %d", path, ErrCorrupt, h.Count, len(out))
		}
		n := int(body[0])
		name := string(body[1 : 1+n])
		pm := probeModel{horizon: int(binary.LittleEndian.Uint32(body[1+n:]))}
		k, _ := binary.Decode(body[1+n+4:], binary.LittleEndian, &pm.Det)
		binary.Decode(body[1+n+4+k:], binary.LittleEndian, &pm.Fc)
		out[name] = pm
		body = body[1+n+entry:]
	}
	if len(body) != 0 {
		return nil, fmt.Errorf("load probe models %s: %w: %d bytes after the last model", path, ErrCorrupt, len(body))
	}
	return out, nil
}

// readProbeModels reads the probe models of the model file at path; none
// when there is no such file (a model saved without plugins).
func readProbeModels(path string) (map[string]probeModel, error) {
	b, err := os.ReadFile(ProbeModelPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load probe models: %w", err)
	}
	return decodeProbeModels(ProbeModelPath(path), b)
}
