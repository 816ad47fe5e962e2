package plugins

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/ainka/ainka/plugins/wasm"
)

// Options say where plugins are and how they run.
type Options struct {
	// Dirs are searched, in order, for *.wasm files.
	Dirs []string
	// Limits bound each plugin (zero: wasm.DefaultLimits).
	Limits wasm.Limits
	// Act lets tuner plugins' proposals be applied; false turns each into
	// advice (a notify decision saying what it would set), like a built-in
	// tuner in advise mode.
	Act bool
	// Logger gets refusals and disablings (nil: none).
	Logger *slog.Logger
}

// Set is the loaded plugins. Its methods may be called from any goroutine.
type Set struct {
	opts Options

	mu       sync.Mutex
	mods     []*entry // by name
	refused  []Refusal
	disabled uint64 // plugins disabled at run time since the start
}

// entry is a loaded module and what the set remembers of it.
type entry struct {
	mod   *wasm.Module
	names []string // detector: "PLUGIN.SCORE" per score
	off   bool     // disabled: its disabling was logged and counted
}

// Refusal is a plugin file that did not load, and why.
type Refusal struct {
	Path string
	Err  error
}

// Open loads every plugin of opts.Dirs. A plugin that does not load is
// refused and logged; only a directory that exists but cannot be read is
// an error.
func Open(ctx context.Context, opts Options) (*Set, error) {
	if opts.Limits == (wasm.Limits{}) {
		opts.Limits = wasm.DefaultLimits()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Set{opts: opts}
	if err := s.Reload(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Files lists the plugin files of dirs, in order; a missing directory
// lists none.
func Files(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read plugin directory: %w", err)
		}
		for _, e := range ents {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".wasm") {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	return out, nil
}

// Reload scans the directories again. An unchanged plugin keeps its
// instance (and what it learned); a changed or new one is loaded, and if
// that fails the plugin of that file keeps running as it was; a plugin
// whose file is gone is unloaded.
func (s *Set) Reload(ctx context.Context) error {
	files, err := Files(s.opts.Dirs)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := slices.Clone(s.mods)
	s.mu.Unlock()
	var mods []*entry
	var refused []Refusal
	for _, f := range files {
		e, err := s.load(ctx, f, old)
		if err != nil && e != nil {
			err = KeepsRunning(err, e.mod.Info.Version)
		}
		if err != nil {
			s.opts.Logger.Warn("plugin refused", "path", f, "err", err)
			refused = append(refused, Refusal{Path: f, Err: err})
		}
		if e != nil {
			mods = append(mods, e)
		}
	}
	mods, dups := dedupe(mods)
	refused = append(refused, dups...)
	s.mu.Lock()
	s.mods, s.refused = mods, refused
	s.mu.Unlock()
	for _, e := range old {
		if !slices.Contains(mods, e) {
			e.mod.Close()
		}
	}
	return nil
}

// load returns the entry for file f: the old one when the file is
// unchanged, else a new one. When the new one fails, the old entry of the
// file (if any) is returned with the error.
func (s *Set) load(ctx context.Context, f string, old []*entry) (*entry, error) {
	var prev *entry
	for _, e := range old {
		if e.mod.Path == f {
			prev = e
		}
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return prev, fmt.Errorf("read plugin: %w", err)
	}
	if prev != nil && prev.mod.SHA256 == sha256Hex(b) {
		return prev, nil
	}
	m, err := wasm.LoadBytes(ctx, b, s.opts.Limits)
	if err != nil {
		return prev, err
	}
	m.Path = f
	e := &entry{mod: m}
	for _, sc := range m.Info.Scores {
		e.names = append(e.names, m.Info.Name+"."+sc)
	}
	return e, nil
}

// dedupe keeps the first plugin of each name (directories in order) and
// refuses the others, sorted by name so that scores keep their order.
func dedupe(mods []*entry) ([]*entry, []Refusal) {
	var out []*entry
	var refused []Refusal
	for _, e := range mods {
		i := slices.IndexFunc(out, func(o *entry) bool { return o.mod.Info.Name == e.mod.Info.Name })
		if i >= 0 {
			refused = append(refused, Refusal{Path: e.mod.Path, Err: fmt.Errorf("plugin %q is already loaded from %s", e.mod.Info.Name, out[i].mod.Path)})
			continue
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b *entry) int { return strings.Compare(a.mod.Info.Name, b.mod.Info.Name) })
	return out, refused
}

// ErrReloadRefused is wrapped by the reason of a plugin file that a reload
// refused while the plugin's previous version goes on running.
var ErrReloadRefused = errors.New("reload refused")

// KeepsRunning is the reason a reload gives when a plugin's new version
// is refused and the running version is kept: the same for logic and
// probe plugins.
func KeepsRunning(err error, version string) error {
	return fmt.Errorf("%w: %w; version %s keeps running", ErrReloadRefused, err, version)
}

// Dirs are the plugin directories the set scans.
func (s *Set) Dirs() []string { return s.opts.Dirs }

// Close unloads every plugin.
func (s *Set) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.mods {
		e.mod.Close()
	}
	s.mods = nil
}

// failed logs and counts a plugin's disabling, once; the set calls it no
// more.
func (s *Set) failed(e *entry, err error) {
	if e.off || e.mod.Stats().Disabled == nil {
		return
	}
	e.off = true
	s.disabled++
	s.opts.Logger.Warn("plugin disabled", "plugin", e.mod.Info.Name, "err", err)
}
