// Package wasmtest builds Go plugins for tests: the examples under
// examples/plugins/ and the hostile modules of plugins/wasm/testdata/, with
// the standard toolchain (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared).
// The build cache makes every build after the first take a link's time.
package wasmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Module is the module path of AINKA, the prefix of the package paths.
const Module = "github.com/ainka/ainka/"

// Packages of the plugins tests build, by short name.
var Packages = map[string]string{
	"pressure":   "examples/plugins/detector",
	"swappiness": "examples/plugins/tuner",
	"loop":       "plugins/wasm/testdata/loop",
	"alloc":      "plugins/wasm/testdata/alloc",
	"trap":       "plugins/wasm/testdata/trap",
	"import":     "plugins/wasm/testdata/import",
	"badknob":    "plugins/wasm/testdata/badknob",
	"garbage":    "plugins/wasm/testdata/garbage",
	"always":     "plugins/wasm/testdata/always",
	"bench30":    "plugins/wasm/testdata/bench30",
}

// Build builds the named plugins into dir (as NAME.wasm), two at a time,
// and returns their paths by name.
func Build(dir string, names ...string) (map[string]string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("wasmtest: the go command builds the plugins: %w", err)
	}
	out := make(map[string]string, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, n := range names {
		pkg, ok := Packages[n]
		if !ok {
			return nil, fmt.Errorf("wasmtest: no plugin %q", n)
		}
		out[n] = filepath.Join(dir, n+".wasm")
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cmd := exec.Command(goBin, "build", "-buildmode=c-shared", "-o", out[n], path.Join(Module, pkg))
			cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("wasmtest: build %s: %v: %s", pkg, err, strings.TrimSpace(string(b)))
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MustBuild is Build into a test's temporary directory; a failed build
// fails the test.
func MustBuild(tb testing.TB, names ...string) map[string]string {
	tb.Helper()
	m, err := Build(tb.TempDir(), names...)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// Main is a test package's TestMain that builds the named plugins (all
// of Packages when none is named) into a temporary directory, sets *built
// to their paths and runs the tests.
func Main(m *testing.M, built *map[string]string, names ...string) {
	if len(names) == 0 {
		for n := range Packages {
			names = append(names, n)
		}
	}
	dir, err := os.MkdirTemp("", "ainka-wasm-")
	if err == nil {
		*built, err = Build(dir, names...)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
