package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPIDFileIgnoresPlantedSymlinks: symlinks planted at every name the
// old code would have used for its temporary file (PID_FILE.<N>.tmp), and
// at the pid file itself, pointing at a file root owns: writing the pid
// file changes none of the targets (issue 16, defect 8).
func TestPIDFileIgnoresPlantedSymlinks(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ainka.pid")
	victim := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(victim, []byte("root:secret\n"), 0o600)
	self := os.Getpid()
	for n := self - 50; n <= self+50; n++ {
		os.Symlink(victim, fmt.Sprintf("%s.%d.tmp", p, n))
	}
	other := filepath.Join(t.TempDir(), "other")
	os.WriteFile(other, []byte("keep\n"), 0o600)
	os.Symlink(other, p)
	remove, err := WritePIDFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "root:secret\n" {
		t.Errorf("victim overwritten through a planted temporary name: %q", b)
	}
	if b, _ := os.ReadFile(other); string(b) != "keep\n" {
		t.Errorf("file behind a symlinked pid file overwritten: %q", b)
	}
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("pid file is not a regular file: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(p); strings.TrimSpace(string(b)) != strconv.Itoa(self) {
		t.Errorf("pid file holds %q", b)
	}
	remove()
	left, _ := filepath.Glob(filepath.Join(dir, ".ainka.pid.*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
