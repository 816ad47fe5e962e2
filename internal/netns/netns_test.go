package netns

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func ino(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestPath: a namespace is found by its inode under RunNetns first, then
// under Proc's PID/ns/net; an inode nobody opens is ErrNotFound.
func TestPath(t *testing.T) {
	dir := t.TempDir()
	run, proc := filepath.Join(dir, "run"), filepath.Join(dir, "proc")
	for _, d := range []string{run, filepath.Join(proc, "42", "ns"), filepath.Join(proc, "self", "ns")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(run, "blue"), filepath.Join(proc, "42", "ns", "net"), filepath.Join(proc, "self", "ns", "net")} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := Dirs{RunNetns: run, Proc: proc}
	for _, want := range []string{filepath.Join(run, "blue"), filepath.Join(proc, "42", "ns", "net")} {
		if got, err := d.Path(ino(t, want)); err != nil || got != want {
			t.Errorf("Path(%d) = %q, %v; want %s", ino(t, want), got, err, want)
		}
	}
	// Only numeric entries of Proc are processes.
	if _, err := d.Path(ino(t, filepath.Join(proc, "self", "ns", "net"))); !errors.Is(err, ErrNotFound) {
		t.Errorf("self: %v, want ErrNotFound", err)
	}
	if err := d.Do(1, func() error { t.Fatal("ran"); return nil }); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "inode 1") {
		t.Errorf("Do(1): %v, want ErrNotFound naming inode 1", err)
	}
	if _, err := (Dirs{RunNetns: filepath.Join(dir, "none"), Proc: filepath.Join(dir, "none")}).Path(7); !errors.Is(err, ErrNotFound) {
		t.Errorf("no dirs: %v", err)
	}
}

// TestReadSysctlOwn: reading a sysctl in the caller's own namespace, by
// its inode through /proc/PID/ns/net, gives what /proc/sys shows.
func TestReadSysctlOwn(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: setns")
	}
	own := ino(t, "/proc/self/ns/net")
	got, err := Dirs{}.ReadSysctl(own, "net.ipv4.tcp_congestion_control")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("/proc/sys/net/ipv4/tcp_congestion_control")
	if got != string(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := (Dirs{}).ReadSysctl(own, "net.ipv4.no_such_sysctl"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing sysctl: %v", err)
	}
}
