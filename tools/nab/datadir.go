package nab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// DataEnv names the environment variable that points at the NAB data
// directory when it is not ../shared/nab beside the repository.
const DataEnv = "AINKA_NAB_DIR"

// ErrNoData reports that the NAB development data was not found.
var ErrNoData = errors.New("NAB development data not found")

// DataDir finds the NAB data directory: $AINKA_NAB_DIR when set, else
// shared/nab beside the repository root that contains dir (walking up to
// go.mod), else shared/nab beside any ancestor of that root (a git worktree
// sits one level deeper than the clone CI uses).
func DataDir(dir string) (string, error) {
	if env := os.Getenv(DataEnv); env != "" {
		if !hasCorpus(env) {
			return env, fmt.Errorf("%s=%s: no combined_windows.json there: %w", DataEnv, env, ErrNoData)
		}
		return env, nil
	}
	root, err := repoRoot(dir)
	if err != nil {
		return "", err
	}
	first := filepath.Join(filepath.Dir(root), "shared", "nab")
	for d := filepath.Dir(root); ; d = filepath.Dir(d) {
		if p := filepath.Join(d, "shared", "nab"); hasCorpus(p) {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return first, fmt.Errorf("%s (../shared/nab beside the repository, or $%s): %w", first, DataEnv, ErrNoData)
		}
	}
}

// DefaultDir is DataDir without the reason: ok is false when the data is
// absent.
func DefaultDir(dir string) (string, bool) {
	p, err := DataDir(dir)
	return p, err == nil
}

// TestData returns the NAB data directory for a test that needs it. It
// skips when the data is missing on a developer's machine, and fails when
// CI=true: CI lays shared/ beside the clone, so missing data there means a
// broken layout, and a skipped test would hide every score that rests on it.
func TestData(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := DataDir(wd)
	if err == nil {
		return dir
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true: %v", err)
	}
	tb.Skip(err)
	return ""
}

func hasCorpus(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "combined_windows.json"))
	return err == nil
}

func repoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: %w", dir, ErrNoData)
		}
	}
}
