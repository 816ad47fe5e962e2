package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

func TestModelInfo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.bin")
	cfg := predict.DefaultConfig()
	cfg.ModelPath = path
	s, err := predict.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	vs := make([]features.Vector, 50)
	for i := range vs {
		vs[i].EndNs = uint64(i+1) * 100e6
		vs[i].Values[features.CPUBusyPct] = float64(i)
	}
	s.Process(vs, nil)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := runModel([]string{"info", "--model-path", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	norm := strings.Join(strings.Fields(stdout.String()), " ")
	for _, want := range []string{"processed 50 windows", "cpu_busy_pct 50", "horizon 10 windows (1s)", fmt.Sprintf("version %d", predict.ModelVersion)} {
		if !strings.Contains(norm, want) {
			t.Errorf("model info output lacks %q:\n%s", want, stdout.String())
		}
	}
	os.WriteFile(path, []byte("garbage"), 0o644)
	stdout.Reset()
	stderr.Reset()
	if code := runModel([]string{"info", "--model-path", path}, &stdout, &stderr); code != exitFailure || !strings.Contains(stderr.String(), "corrupted") {
		t.Errorf("corrupted model: exit %d, %q", code, stderr.String())
	}
	stderr.Reset()
	if code := runModel([]string{"nope"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("bad subcommand: exit %d", code)
	}
}
