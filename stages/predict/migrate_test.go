package predict

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// A format-2 model file (before the host alarm) is migrated: everything
// else carries over, the alarm starts afresh; it is saved as format 3.
func TestModelV2Migrated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.bin")
	a := newStage(t, func(c *Config) { c.ModelPath = path })
	run(a, vectors(400, 3))
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var h modelHeader
	hs := binary.Size(&h)
	v2 := b[hs : hs+binary.Size(&modelStateV2{})] // format 2 is format 3 without the trailing alarm
	hdr := bytes.Clone(b[:hs])
	binary.LittleEndian.PutUint32(hdr[8:], 2)
	binary.LittleEndian.PutUint64(hdr[16:], uint64(len(v2)))
	binary.LittleEndian.PutUint32(hdr[24:], crc32.Checksum(v2, castagnoli))
	os.WriteFile(path, append(hdr, v2...), 0o644)
	c := newStage(t, func(cfg *Config) { cfg.ModelPath = path })
	if err := c.LoadError(); err != nil {
		t.Fatalf("format 2 not migrated: %v", err)
	}
	if c.det[0].S != a.det[0].S || c.host.S.Windows != 0 || a.host.S.Windows != 400 {
		t.Errorf("migrated: detector equal %v, alarm windows %d (want 0)", c.det[0].S == a.det[0].S, c.host.S.Windows)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if mi, err := ReadModelInfo(path); err != nil || mi.Version != ModelVersion {
		t.Errorf("saved again: %+v, %v; want format %d", mi, err, ModelVersion)
	}
}
