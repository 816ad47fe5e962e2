package ainka

import (
	"errors"
	"go/build"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docs/architecture.md names packages as `path/` (a directory of the
// repository in backquotes, with a trailing slash) and links files and
// directories as [text](../path). Both must exist, or the picture of the
// house is no longer the house.
var (
	namedPackage = regexp.MustCompile("`([a-z][a-z0-9_-]*(?:/[a-z0-9_-]+)*)/`")
	relativeLink = regexp.MustCompile(`\]\(\.\./([^)#\s]+)(?:#[^)]*)?\)`)
)

const architectureDoc = "docs/architecture.md"

// TestArchitectureNamesRealPackages fails when the architecture document
// names a package that does not exist (or is not a Go package), or links a
// path that does not exist.
func TestArchitectureNamesRealPackages(t *testing.T) {
	text, err := os.ReadFile(architectureDoc)
	if err != nil {
		t.Fatalf("read %s: %v", architectureDoc, err)
	}
	pkgs := namedPackages(string(text))
	if len(pkgs) < 10 {
		t.Fatalf("%s names %d packages as `path/`; the pattern or the document changed", architectureDoc, len(pkgs))
	}
	for _, p := range pkgs {
		if err := isGoPackage(p); err != nil {
			t.Errorf("%s names `%s/`: %v", architectureDoc, p, err)
		}
	}
	for _, m := range relativeLink.FindAllStringSubmatch(string(text), -1) {
		if _, err := os.Stat(filepath.FromSlash(m[1])); err != nil {
			t.Errorf("%s links ../%s: %v", architectureDoc, m[1], err)
		}
	}
	// Not a failure (a package may land before its paragraph does), but
	// said, so that the next change to the document adds it.
	for _, p := range unnamedPackages(t, pkgs) {
		t.Logf("%s does not name `%s/` yet", architectureDoc, p)
	}
}

// namedPackages returns the distinct `path/` names of text, sorted.
func namedPackages(text string) []string {
	var out []string
	for _, m := range namedPackage.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// isGoPackage says why dir is not a directory holding a Go package (its
// non-test files), or nil.
func isGoPackage(dir string) error {
	st, err := os.Stat(filepath.FromSlash(dir))
	if err != nil {
		return errors.New("no such directory")
	}
	if !st.IsDir() {
		return errors.New("not a directory")
	}
	if _, err := build.ImportDir(filepath.FromSlash(dir), 0); err != nil {
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return errors.New("a directory without Go files, not a package")
		}
		return err
	}
	return nil
}

// unnamedPackages lists the repository's Go packages the document does
// not name.
func unnamedPackages(t *testing.T, named []string) []string {
	var out []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || path == "." {
			return nil
		}
		if name := d.Name(); strings.HasPrefix(name, ".") || name == "testdata" || name == "build" {
			return filepath.SkipDir
		}
		p := filepath.ToSlash(path)
		if _, found := slices.BinarySearch(named, p); !found && isGoPackage(p) == nil {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the repository: %v", err)
	}
	return out
}

// stageOrder is the chain's order (daemon/chain.go's join).
var stageOrder = []string{"source", "decode", "aggregate", "features", "predict", "tune", "decide", "actuate"}

// importsDownstream are the allowed exceptions: tune's output carries
// decide's Decision type, and tune wraps decide's processor for the stage
// after it (tune.WithDecide).
var importsDownstream = map[string][]string{"tune": {"decide"}}

// TestStagesImportOnlyUpstream fails when a package under stages/ imports
// a stage downstream of its own: data flows one way, and so do imports.
func TestStagesImportOnlyUpstream(t *testing.T) {
	const mod = "github.com/ainka/ainka/"
	checked := 0
	err := filepath.WalkDir("stages", func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || isGoPackage(filepath.ToSlash(path)) != nil {
			return err
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			return err
		}
		own := slices.Index(stageOrder, stageOf(filepath.ToSlash(path)))
		for _, imp := range pkg.Imports {
			rel, ok := strings.CutPrefix(imp, mod)
			if !ok || !strings.HasPrefix(rel, "stages/") {
				continue
			}
			allowed := slices.Contains(importsDownstream[stageOf(filepath.ToSlash(path))], stageOf(rel))
			if dep := slices.Index(stageOrder, stageOf(rel)); own >= 0 && dep > own && !allowed {
				t.Errorf("%s imports %s, a stage downstream of it", filepath.ToSlash(path), rel)
			}
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatalf("walk stages/: %v", err)
	}
	if checked < len(stageOrder) {
		t.Fatalf("checked %d packages under stages/, want at least %d", checked, len(stageOrder))
	}
}

// stageOf returns the stage a path under stages/ belongs to.
func stageOf(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// TestArchitectureCheckersFail holds the checkers to what they must
// refuse, so that the tests above cannot pass by matching nothing.
func TestArchitectureCheckersFail(t *testing.T) {
	if err := isGoPackage("stages/no-such-stage"); err == nil {
		t.Error("isGoPackage accepts a missing directory")
	}
	if err := isGoPackage("docs"); err == nil {
		t.Error("isGoPackage accepts a directory without Go files")
	}
	if err := isGoPackage("pipeline"); err != nil {
		t.Errorf("isGoPackage(pipeline): %v", err)
	}
	got := namedPackages("`daemon/` and `stages/decide/expr/`, not `make test` nor `bin/ainka`")
	if want := []string{"daemon", "stages/decide/expr"}; !slices.Equal(got, want) {
		t.Errorf("namedPackages = %q, want %q", got, want)
	}
}
