package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// InVM reports whether the test runs inside the test VM (scripts/vm/run.sh
// sets AINKA_VM=1), where the kernel, the modules, /dev/ram0 and every
// other feature the tests rely on are there by construction.
func InVM() bool { return os.Getenv("AINKA_VM") == "1" }

// SkipUnlessVM skips the test on a machine that lacks what it needs, and
// fails it inside the VM, where the lack is a bug of the VM harness or of
// the code under test that a skip would hide.
func SkipUnlessVM(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if InVM() {
		tb.Fatalf("inside the test VM: %s", msg)
	}
	tb.Skip(msg)
}

// lockPath is shared by every test binary of the module on this machine.
var lockPath = filepath.Join(os.TempDir(), "ainka-test-load.lock")

// LoadsCPU is called by a test that saturates the CPUs (stress-ng, busy
// loops): it waits until no timing test runs in another test binary and
// keeps them out until the test ends. `go test ./...` runs packages in
// parallel, and on a 2-core machine a stress-ng --cpu 4 in one package
// delays the timers of another by tens of milliseconds.
func LoadsCPU(tb testing.TB) { lock(tb, unix.LOCK_EX) }

// MeasuresTime is called by a test whose checks rely on timely wake-ups:
// it runs alongside other timing tests but never during a LoadsCPU test.
func MeasuresTime(tb testing.TB) { lock(tb, unix.LOCK_SH) }

func lock(tb testing.TB, how int) {
	tb.Helper()
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		tb.Fatalf("open test load lock: %v", err)
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		tb.Fatalf("lock %s: %v", lockPath, err)
	}
	tb.Cleanup(func() { f.Close() }) // closing releases the lock
}

// RequireRoot skips the test unless it runs as root; why says what needs
// root ("writes /proc/sys").
func RequireRoot(tb testing.TB, why string) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: " + why)
	}
}
