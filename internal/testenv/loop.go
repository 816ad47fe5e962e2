package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// LoopDevice attaches a 1 MiB loop device for the test (root, losetup)
// and returns its name (loopN); it is detached at the end. The test is
// skipped when none can be attached.
func LoopDevice(t testing.TB) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "disk")
	if err := os.WriteFile(f, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "-f", "--show", f).Output()
	if err != nil {
		t.Skipf("no loop device (losetup: %v)", err)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	return filepath.Base(dev)
}
