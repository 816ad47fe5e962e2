package source

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/bpf/record"
	"golang.org/x/sys/unix"
)

// TracefsDir is where tracefs is mounted (and mounted by EnsureTracefs).
const TracefsDir = "/sys/kernel/tracing"

// EnsureTracefs mounts tracefs at TracefsDir unless it is mounted already.
// The tp_btf programs do not need it, but the list of the kernel's
// tracepoints lives there, which is how a missing kind is explained.
func EnsureTracefs() error {
	var fs unix.Statfs_t
	if err := unix.Statfs(TracefsDir, &fs); err == nil && fs.Type == unix.TRACEFS_MAGIC {
		return nil
	}
	if err := unix.Mount("tracefs", TracefsDir, "tracefs", 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("mount tracefs at %s: %w", TracefsDir, err)
	}
	return nil
}

// explainMissing says, per kind left out, what the kernel lacks: whether
// the tracepoint exists at all (tracefs) or only its BTF is missing.
func explainMissing(missing map[record.Kind]error) string {
	if len(missing) == 0 {
		return ""
	}
	tracefs := EnsureTracefs() == nil
	var lines []string
	for k := record.Kind(1); k < record.NumKinds; k++ {
		err, ok := missing[k]
		if !ok {
			continue
		}
		line := fmt.Sprintf("kind %s not captured: %v", k, err)
		if tracefs {
			var absent []string
			for _, tp := range bpf.Tracepoints(k) {
				dir := filepath.Join(TracefsDir, "events", strings.Replace(tp, ":", "/", 1))
				if _, err := os.Stat(dir); err != nil {
					absent = append(absent, tp)
				}
			}
			if len(absent) > 0 {
				line += fmt.Sprintf(" (tracefs lists no %s)", strings.Join(absent, ", "))
			} else {
				line += " (tracefs has the tracepoints but kernel BTF lacks their btf_trace_* types)"
			}
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
