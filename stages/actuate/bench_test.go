package actuate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ainka/ainka/stages/decide"
)

// BenchmarkApplyWrite is the user-space cost of one actuation once the
// decision exists: read the knob, journal it with fsync, write, read back.
// It alternates two values so that every iteration writes.
func BenchmarkApplyWrite(b *testing.B) {
	// The knob lives on tmpfs like the real ones (procfs, sysfs): on ext4
	// a truncating rewrite of a regular file is flushed on close, which no
	// kernel knob does. The journal is on the disk, as in production.
	shm, err := os.MkdirTemp("/dev/shm", "ainka-bench")
	if err != nil {
		b.Skipf("no /dev/shm: %v", err)
	}
	defer os.RemoveAll(shm)
	os.MkdirAll(filepath.Join(shm, "fake0", "queue"), 0o755)
	os.WriteFile(filepath.Join(shm, "fake0", "queue", "read_ahead_kb"), []byte("128\n"), 0o644)
	cfg := Config{SysBlock: shm, JournalPath: filepath.Join(b.TempDir(), "journal"),
		KnobInterval: -1, MaxWritesPerS: 1 << 30, AuditInterval: -1, Logger: quiet, Cgroup1CPU: "-"}
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t := &testing.T{}
	ds := [2][]decide.Decision{{dec(t, "readahead fake0 = 256")}, {dec(t, "readahead fake0 = 512")}}
	out := make([]Result, 0, 4)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out = s.Process(ds[i%2], out[:0])
		if out[0].Status != Applied {
			b.Fatalf("%+v", out[0])
		}
	}
}
