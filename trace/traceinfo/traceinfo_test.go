package traceinfo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrite: a whole trace shows its header, a row per kind with the
// kernel's counters, and a record count that matches the rows.
func TestWrite(t *testing.T) {
	var b strings.Builder
	if err := Write(&b, "../../testdata/traces/cpu.trace"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"schema version:", "interval:", "kinds:", "records:", "kind", "seen", "host_sample"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace info lacks %q:\n%s", want, out)
		}
	}
}

// TestWriteDamaged: a cut trace prints what comes before the cut and
// returns the damage; a file that is no trace is an error naming it.
func TestWriteDamaged(t *testing.T) {
	data, err := os.ReadFile("../../testdata/traces/cpu.trace")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.trace")
	if err := os.WriteFile(cut, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Write(&b, cut); err == nil {
		t.Error("a cut trace read without error")
	}
	if !strings.Contains(b.String(), "records:") {
		t.Errorf("nothing printed before the damage:\n%s", b.String())
	}
	if err := Write(&b, filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "open trace") {
		t.Errorf("missing file: %v", err)
	}
}
