package actuate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/stages/decide"
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

// memory.high of a cgroup v2 (the memory tuner's bound on a hog): dry-run
// says exactly what would be written and writes nothing; a write from
// "max" is journalled and restored to "max" at Close and after a crash;
// values go down to a whole page (the kernel reads back the page-rounded
// limit, which would otherwise look like someone else's write); one step
// halves at most; a value written by someone else is yielded.
func TestCgroupV2MemoryHigh(t *testing.T) {
	root, cfg := fakeSys(t)
	file := filepath.Join(cfg.CgroupRoot, "bench", "hog", "memory.high")
	os.MkdirAll(filepath.Dir(file), 0o755)
	os.WriteFile(file, []byte("max\n"), 0o644)

	dry := cfg
	dry.DryRun = true
	s, err := New(dry)
	if err != nil {
		t.Fatal(err)
	}
	r := one(t, s, "cgroup bench/hog memory.high = 100000000")
	if r.Status != DryRun || r.Old != "max" || r.New != "99999744" || r.Knob != "cgroup:bench/hog:memory.high" ||
		!strings.Contains(r.Clamped, "rounded down to a page") {
		t.Errorf("dry run: %+v", r)
	}
	s.Close()
	if got := readTrim(file); got != "max" {
		t.Errorf("dry run wrote %s", got)
	}
	if _, err := os.Stat(cfg.JournalPath); err == nil {
		t.Error("dry run wrote a journal")
	}

	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := one(t, s, "cgroup bench/hog memory.high = 99999744"); r.Status != Applied || readTrim(file) != "99999744" || r.Clamped != "" {
		t.Errorf("from max: %+v, file %s", r, readTrim(file))
	}
	if r := one(t, s, "cgroup bench/hog memory.high = 20971520"); r.Status != Applied || readTrim(file) != "49999872" ||
		!strings.Contains(r.Clamped, "×2") {
		t.Errorf("second step: %+v, file %s", r, readTrim(file))
	}
	if cmds := s.RollbackCommands(); len(cmds) != 1 || !strings.Contains(cmds[0], "max") || !strings.Contains(cmds[0], "bench/hog/memory.high") {
		t.Errorf("rollback commands %q", cmds)
	}
	// a crash: the journal restores "max" at the next start
	s.j.Close()
	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := readTrim(file); got != "max" {
		t.Errorf("after a crash and restart %s, want max", got)
	}
	if r := one(t, s, "cgroup bench/hog memory.high = 67108864"); r.Status != Applied {
		t.Fatalf("again: %+v", r)
	}
	s.Close()
	if got := readTrim(file); got != "max" {
		t.Errorf("after Close %s, want max", got)
	}

	// never below 75 % of the usage in one write (no stall): a cut to
	// 64 MiB of a cgroup using 200 MB goes in steps
	os.WriteFile(filepath.Join(filepath.Dir(file), "memory.current"), []byte("200000000\n"), 0o644)
	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := one(t, s, "cgroup bench/hog memory.high = 67108864"); r.Status != Applied || readTrim(file) != "150003712" ||
		!strings.Contains(r.Clamped, "bounded to 75% of the cgroup's usage (200000000 bytes) per step") {
		t.Errorf("below the usage: %+v, file %s", r, readTrim(file))
	}
	os.WriteFile(filepath.Join(filepath.Dir(file), "memory.current"), []byte("120000000\n"), 0o644)
	if r := one(t, s, "cgroup bench/hog memory.high = 67108864"); r.Status != Applied || readTrim(file) != "90001408" {
		t.Errorf("next step: %+v, file %s", r, readTrim(file))
	}
	s.Close()
	os.Remove(filepath.Join(filepath.Dir(file), "memory.current"))

	// an administrator's write while AINKA holds the knob is left alone
	cfg.JournalPath = filepath.Join(root, "work3", "journal")
	s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	one(t, s, "cgroup bench/hog memory.high = 67108864")
	os.WriteFile(file, []byte("134217728\n"), 0o644)
	rs := s.Process([]decide.Decision{dec(t, "cgroup bench/hog memory.high = 33554432")}, nil)
	yielded := false
	for _, r := range rs {
		yielded = yielded || r.Status == Yielded && r.Knob == "cgroup:bench/hog:memory.high"
	}
	if !yielded || readTrim(file) != "134217728" {
		t.Errorf("after an outside write: %+v, file %s", rs, readTrim(file))
	}
}
