package predict

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// downgrade rewrites the model file at path as format version, whose
// payload is the first size bytes of the current one (each older format is
// a prefix of the next).
func downgrade(t *testing.T, path string, version uint32, size int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var h modelHeader
	hs := binary.Size(&h)
	old := b[hs : hs+size]
	hdr := bytes.Clone(b[:hs])
	binary.LittleEndian.PutUint32(hdr[8:], version)
	binary.LittleEndian.PutUint64(hdr[16:], uint64(len(old)))
	binary.LittleEndian.PutUint32(hdr[24:], crc32.Checksum(old, castagnoli))
	if err := os.WriteFile(path, append(hdr, old...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// savedStage runs a stage with a model file over 400 windows and saves it.
func savedStage(t *testing.T, path string) *Stage {
	t.Helper()
	a := newStage(t, func(c *Config) { c.ModelPath = path })
	run(a, vectors(400, 3))
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	return a
}

// migrated rewrites the model file at path as format version (see
// downgrade) and starts a stage from it, which must load it.
func migrated(t *testing.T, path string, version uint32, size int) *Stage {
	t.Helper()
	downgrade(t, path, version, size)
	c := newStage(t, func(cfg *Config) { cfg.ModelPath = path })
	if err := c.LoadError(); err != nil {
		t.Fatalf("format %d not migrated: %v", version, err)
	}
	return c
}

// resaved checks that a migrated stage saves in the current format.
func resaved(t *testing.T, c *Stage, path string) {
	t.Helper()
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if mi, err := ReadModelInfo(path); err != nil || mi.Version != ModelVersion {
		t.Errorf("saved again: %+v, %v; want format %d", mi, err, ModelVersion)
	}
}

// A format-2 model file (before the host alarm) is migrated: everything
// else carries over, the alarm and the neural forecasters start afresh;
// it is saved in the current format.
func TestModelV2Migrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.bin")
	a := savedStage(t, path)
	c := migrated(t, path, 2, binary.Size(&modelStateV2{}))
	if c.det[0].S != a.det[0].S || c.host.S.Windows != 0 || a.host.S.Windows != 400 {
		t.Errorf("migrated: detector equal %v, alarm windows %d (want 0)", c.det[0].S == a.det[0].S, c.host.S.Windows)
	}
	resaved(t, c, path)
}

// A format-3 model file (before the neural forecasters) is migrated: the
// alarm and the statistical models carry over; each neural forecaster
// starts afresh from its initial weights (not zero ones, which could never
// learn: every hidden unit would stay the same).
func TestModelV3Migrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.bin")
	a := savedStage(t, path)
	c := migrated(t, path, 3, binary.Size(&modelStateV3{}))
	var fresh Stage
	fresh.cfg = c.cfg
	fresh.horizon = c.horizon
	fresh.init()
	if c.fc[0].S != a.fc[0].S || c.host.S != a.host.S || c.nn[0].S != fresh.nn[0].S || a.nn[0].S.N != 400 {
		t.Errorf("migrated: forecaster equal %v, alarm equal %v, net fresh %v (saved one had %d values)",
			c.fc[0].S == a.fc[0].S, c.host.S == a.host.S, c.nn[0].S == fresh.nn[0].S, a.nn[0].S.N)
	}
	resaved(t, c, path)
}

// MergeModel carries a feature's neural forecaster with its forecaster,
// and a migrated format-3 file's nets start from their initial weights
// (a merge writes them out, so zero ones would stay zero for good).
func TestMergeCarriesNets(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src.bin"), filepath.Join(dir, "dst.bin")
	a := savedStage(t, src)
	b := newStage(t, func(c *Config) { c.ModelPath = dst })
	run(b, vectors(50, 4))
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	srcBytes, _ := os.ReadFile(src)
	if m, err := MergeModel(dst, srcBytes); err != nil || m.Features == 0 {
		t.Fatalf("merge: %+v, %v", m, err)
	}
	c := newStage(t, func(cfg *Config) { cfg.ModelPath = dst })
	if c.nn[0].S != a.nn[0].S {
		t.Errorf("merged: the net did not come with its forecaster (N %d, want %d)", c.nn[0].S.N, a.nn[0].S.N)
	}
	downgrade(t, src, 3, binary.Size(&modelStateV3{}))
	srcBytes, _ = os.ReadFile(src)
	if err := b.SaveTo(dst); err != nil {
		t.Fatal(err)
	}
	if _, err := MergeModel(dst, srcBytes); err != nil {
		t.Fatal(err)
	}
	d := newStage(t, func(cfg *Config) { cfg.ModelPath = dst })
	var fresh Stage
	fresh.cfg, fresh.horizon = d.cfg, d.horizon
	fresh.init()
	if d.nn[0].S != fresh.nn[0].S {
		t.Errorf("merged from format 3: net N %d, W2[0] %v; want the initial state (W2[0] %v)", d.nn[0].S.N, d.nn[0].S.W2[0], fresh.nn[0].S.W2[0])
	}
}
