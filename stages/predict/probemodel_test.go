package predict

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/features"
)

func probeSet(t *testing.T, names ...string) *spec.Set {
	t.Helper()
	var kinds []spec.Kind
	for i, n := range names {
		plugin, feat, _ := strings.Cut(n, ".")
		kinds = append(kinds, spec.Kind{Kind: spec.KindBase + uint16(i), Name: plugin, Size: 40, Key: -1,
			Features: []spec.Feature{{Name: feat, Op: spec.OpRate, Field: -1}}})
	}
	set, err := spec.NewSet(kinds)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// feed processes n windows from window start, every probe feature at v.
func feed(s *Stage, set *spec.Set, start, n int, v float64) {
	in := make([]features.Vector, n)
	for i := range in {
		w := &in[i]
		w.StartNs, w.EndNs = uint64(start+i)*1e8, uint64(start+i+1)*1e8
		w.Probes, w.NumProbe = set, set.NumFeatures()
		for j := range w.NumProbe {
			w.Probe[j] = v + float64(i%3)
		}
	}
	s.Process(in, nil)
}

// TestProbeModelsPersist: the probe features' models are saved beside
// the model file by name, and a later run gets each feature's own model
// back whatever its index, a new feature starts afresh, and the model of
// a plugin that did not run is kept for when it comes back.
func TestProbeModelsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.bin")
	cfg := DefaultConfig()
	cfg.ModelPath = path
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	feed(a, probeSet(t, "aaa.rate", "bbb.rate"), 0, 300, 50)
	nA, nB := a.probes.det[0].S.N, a.probes.det[1].S.N
	if nA == 0 || a.Save() != nil {
		t.Fatalf("learned %d; save", nA)
	}
	if _, err := os.Stat(ProbeModelPath(path)); err != nil {
		t.Fatal(err)
	}
	// Next run: bbb first, aaa gone, ccc new.
	b, err := New(cfg)
	if err != nil || b.LoadError() != nil {
		t.Fatal(err, b.LoadError())
	}
	feed(b, probeSet(t, "bbb.rate", "ccc.rate"), 300, 1, 50)
	if got := b.probes.det[0].S.N; got != nB+1 {
		t.Errorf("bbb.rate: %d values learned, want %d (its saved model, then one)", got, nB+1)
	}
	if got := b.probes.det[1].S.N; got != 1 {
		t.Errorf("ccc.rate (new): %d values learned, want 1", got)
	}
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	c, _ := New(cfg)
	feed(c, probeSet(t, "aaa.rate"), 400, 1, 50)
	if got := c.probes.det[0].S.N; got != nA+1 {
		t.Errorf("aaa.rate after a run without it: %d values, want %d", got, nA+1)
	}
	// Reset forgets them too.
	c.Reset()
	feed(c, probeSet(t, "aaa.rate"), 500, 1, 50)
	if got := c.probes.det[0].S.N; got != 1 {
		t.Errorf("after Reset: %d values, want 1", got)
	}
}

// TestProbeModelsBadFile: a corrupted, truncated or foreign probe models
// file is set aside with the reason (LoadError); the model file itself is
// still used and the probe features learn afresh.
func TestProbeModelsBadFile(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.ModelPath = filepath.Join(dir, "model.bin")
	a, _ := New(cfg)
	feed(a, probeSet(t, "aaa.rate"), 0, 50, 50)
	if err := a.Save(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(ProbeModelPath(cfg.ModelPath))
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-1] ^= 1
	future := append([]byte(nil), good...)
	future[8] = 9
	for _, tc := range []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"short", good[:10], ErrCorrupt, "shorter than the"},
		{"foreign", append([]byte("NOTAINKA"), good[8:]...), ErrCorrupt, "bad magic"},
		{"future", future, ErrIncompatible, "format version 9, this build reads 1"},
		{"flipped", flipped, ErrCorrupt, "checksum mismatch"},
	} {
		os.WriteFile(ProbeModelPath(cfg.ModelPath), tc.b, 0o644)
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		le := s.LoadError()
		if !errors.Is(le, tc.want) || !strings.Contains(le.Error(), tc.msg) || !strings.Contains(le.Error(), "set aside") {
			t.Errorf("%s: LoadError %v, want %v with %q", tc.name, le, tc.want, tc.msg)
		}
		if s.Processed() != a.Processed() {
			t.Errorf("%s: the model file was not used (%d windows, want %d)", tc.name, s.Processed(), a.Processed())
		}
		if _, err := os.Stat(ProbeModelPath(cfg.ModelPath) + ".unusable"); err != nil {
			t.Errorf("%s: not set aside: %v", tc.name, err)
		}
	}
	// A body that promises more models than it holds (a valid checksum).
	short := append([]byte(nil), good[:len(good)-100]...)
	binary.LittleEndian.PutUint32(short[16:], crc32.Checksum(short[20:], castagnoli))
	if _, err := decodeProbeModels("x", short); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "1 models promised, the file ends after 0") {
		t.Errorf("truncated body: %v", err)
	}
}
