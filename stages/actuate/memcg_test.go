package actuate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// memory.swappiness is a cgroup v1 file: written in the v1 memory
// hierarchy, bounded to ±60 a step, restored at exit; refused, naming
// why, where no v1 memory hierarchy is mounted.
func TestCgroupV1Swappiness(t *testing.T) {
	root, cfg := fakeSys(t)
	cfg.Cgroup1Memory = filepath.Join(root, "memcg")
	file := filepath.Join(cfg.Cgroup1Memory, "bench", "lat", "memory.swappiness")
	os.MkdirAll(filepath.Dir(file), 0o755)
	os.WriteFile(file, []byte("100\n"), 0o644)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := one(t, s, "cgroup /bench/lat memory.swappiness = 0")
	if r.Status != Applied || readTrim(file) != "40" || !strings.Contains(r.Clamped, "±60") {
		t.Errorf("first step: %+v, file %s", r, readTrim(file))
	}
	if r := one(t, s, "cgroup bench/lat memory.swappiness = 0"); r.Status != Applied || readTrim(file) != "0" {
		t.Errorf("second step: %+v, file %s", r, readTrim(file))
	}
	if r := one(t, s, "cgroup bench/none memory.swappiness = 10"); r.Status == Applied || !strings.Contains(r.Err, "bench/none") {
		t.Errorf("missing cgroup: %+v", r)
	}
	s.Close()
	if got := readTrim(file); got != "100" {
		t.Errorf("after Close %s, want 100", got)
	}

	cfg.Cgroup1Memory = "-"
	cfg.JournalPath = filepath.Join(root, "work2", "journal")
	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := one(t, s, "cgroup bench/lat memory.swappiness = 10"); r.Status == Applied || !strings.Contains(r.Err, "no v1 memory hierarchy") {
		t.Errorf("without v1 memory: %+v", r)
	}
}
