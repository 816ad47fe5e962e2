package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRetireStaleModel: metrics_retention_hours bounds how old a resumed
// model may be.
func TestRetireStaleModel(t *testing.T) {
	p := filepath.Join(t.TempDir(), "model.bin")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if retired, err := RetireStaleModel(p, time.Hour, now); err != nil || retired {
		t.Fatalf("fresh model retired=%v err=%v", retired, err)
	}
	old := now.Add(-2 * time.Hour)
	os.Chtimes(p, old, old)
	if retired, err := RetireStaleModel(p, time.Hour, now); err != nil || !retired {
		t.Fatalf("2h-old model with 1h retention: retired=%v err=%v", retired, err)
	}
	if _, err := os.Stat(p + ".stale"); err != nil {
		t.Errorf("stale model not kept aside: %v", err)
	}
	if retired, err := RetireStaleModel(filepath.Join(t.TempDir(), "none"), time.Hour, now); err != nil || retired {
		t.Errorf("missing model: retired=%v err=%v", retired, err)
	}
}
