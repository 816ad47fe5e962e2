package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/ainka/ainka/stages/features"
)

// Limits bound what one module may use.
type Limits struct {
	// MemoryPages bounds the module's linear memory, in 64 KiB pages.
	MemoryPages uint32
	// CallCPU bounds the thread CPU time of one detect or tune call; a
	// call over it disables the module when it returns.
	CallCPU time.Duration
	// CallTimeout is the hard bound of one call in real time: wazero
	// stops a module still running then (an endless loop). It is far above
	// CallCPU because on a loaded host a thread may wait long for a CPU,
	// which must not disable a plugin that did nothing wrong.
	CallTimeout time.Duration
	// InitTimeout bounds instantiation and initialisation (a Go guest
	// starts its runtime there).
	InitTimeout time.Duration
}

// DefaultLimits: 16 MiB of memory (a Go guest's runtime needs about 3),
// 20 ms of CPU per call (a call costs microseconds), 5 s of real time per
// call (on the shared 2-core test machine, calls of ~200 µs of CPU were
// seen to take over 1 s under other tests' memory pressure), 10 s to
// start.
func DefaultLimits() Limits {
	return Limits{MemoryPages: 256, CallCPU: 20 * time.Millisecond, CallTimeout: 5 * time.Second, InitTimeout: 10 * time.Second}
}

// cache shares compiled code between loads of the same module bytes (a
// reload of an unchanged plugin costs no compilation).
var cache = wazero.NewCompilationCache()

// Module is one loaded plugin. Its calls are serialised by a mutex; Stats
// may be called from any goroutine.
type Module struct {
	Path   string
	SHA256 string
	Info   Info

	lim    Limits
	ids    []features.ID
	rt     wazero.Runtime
	mod    api.Module
	call   api.Function
	buf    uint32
	stack  []uint64
	stderr *tailWriter

	ctx      context.Context // the calls' context, cancelled by watchdog
	watchdog *time.Timer

	mu     sync.Mutex
	st     Stats
	offErr error // what calls return once disabled
}

// Load reads, checks, compiles and instantiates the module at path.
func Load(ctx context.Context, path string, lim Limits) (*Module, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plugin: %w", err)
	}
	m, err := LoadBytes(ctx, b, lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Path = path
	return m, nil
}

// LoadBytes is Load of a module's bytes.
func LoadBytes(ctx context.Context, b []byte, lim Limits) (*Module, error) {
	sum := sha256.Sum256(b)
	m := &Module{SHA256: hex.EncodeToString(sum[:]), lim: lim, stack: make([]uint64, 2), stderr: &tailWriter{}}
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(lim.MemoryPages).
		WithCloseOnContextDone(true).WithCompilationCache(cache)
	m.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if err := m.instantiate(ctx, b); err != nil {
		m.rt.Close(ctx)
		return nil, err
	}
	var cancel context.CancelFunc
	m.ctx, cancel = context.WithCancel(context.Background())
	m.watchdog = time.AfterFunc(time.Hour, cancel)
	m.watchdog.Stop()
	return m, nil
}

func (m *Module) instantiate(ctx context.Context, b []byte) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, m.rt); err != nil {
		return fmt.Errorf("instantiate WASI: %w", err)
	}
	cm, err := m.rt.CompileModule(ctx, b)
	if err != nil {
		return fmt.Errorf("%w: compile: %v", ErrABI, err)
	}
	if err := checkImports(cm, m.rt.Module(wasiModule)); err != nil {
		return err
	}
	if err := checkExports(cm); err != nil {
		return err
	}
	ictx, cancel := context.WithTimeout(ctx, m.lim.InitTimeout)
	defer cancel()
	// No filesystem, no arguments, no environment, deterministic clocks
	// and randomness (wazero's defaults): the sandbox of doc.go.
	mc := wazero.NewModuleConfig().WithName("").WithStartFunctions().WithStderr(m.stderr)
	if m.mod, err = m.rt.InstantiateModule(ictx, cm, mc); err != nil {
		return m.failure("instantiate", err)
	}
	if f := m.mod.ExportedFunction(exportInit); f != nil {
		if _, err := f.Call(ictx); err != nil {
			return m.failure("initialise", err)
		}
	}
	return m.describe(ictx)
}

// describe reads and checks the module's info and gets its buffer.
func (m *Module) describe(ctx context.Context) error {
	v, err := m.mod.ExportedFunction(exportABI).Call(ctx)
	if err != nil {
		return m.failure(exportABI, err)
	}
	if got := int32(v[0]); got != ABIVersion {
		return fmt.Errorf("%w: %s returns %d, this AINKA implements %d", ErrABI, exportABI, got, ABIVersion)
	}
	v, err = m.mod.ExportedFunction(exportInfo).Call(ctx)
	if err != nil {
		return m.failure(exportInfo, err)
	}
	raw, err := m.read(v[0], MaxInfoBytes)
	if err != nil {
		return fmt.Errorf("%s: %w", exportInfo, err)
	}
	if m.Info, m.ids, err = parseInfo(raw); err != nil {
		return err
	}
	return m.bind(ctx)
}

// bind finds the kind's call and asks for the buffer the calls share.
func (m *Module) bind(ctx context.Context) error {
	name := exportDetect
	if m.Info.Kind == Tuner {
		name = exportTune
	}
	if m.call = m.mod.ExportedFunction(name); m.call == nil {
		return fmt.Errorf("%w: %s %s exports no %s", ErrABI, m.Info.Kind, m.Info.Name, name)
	}
	size := 8 * max(len(m.ids), len(m.Info.Scores))
	v, err := m.mod.ExportedFunction(exportBuffer).Call(ctx, uint64(size))
	if err != nil {
		return m.failure(exportBuffer, err)
	}
	m.buf = uint32(v[0])
	if _, ok := m.mod.Memory().Read(m.buf, uint32(size)); !ok || m.buf == 0 {
		return fmt.Errorf("%w: %s(%d) returned %#x, not a buffer inside its memory", ErrGarbage, exportBuffer, size, m.buf)
	}
	return nil
}

// checkImports refuses a module importing anything the host does not
// provide, naming it (wazero would refuse it too, less clearly).
func checkImports(cm wazero.CompiledModule, wasi api.Module) error {
	provided := wasi.ExportedFunctionDefinitions()
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		if _, ok := provided[name]; mod != wasiModule || !ok {
			return fmt.Errorf("%w: imports %s.%s, which AINKA does not provide (only %s)", ErrImport, mod, name, wasiModule)
		}
	}
	if len(cm.ImportedMemories()) > 0 {
		return fmt.Errorf("%w: imports a memory; a plugin exports its own", ErrImport)
	}
	return nil
}

// checkExports refuses a module missing an export every kind needs.
func checkExports(cm wazero.CompiledModule) error {
	fs := cm.ExportedFunctions()
	for _, name := range []string{exportABI, exportInfo, exportBuffer} {
		if _, ok := fs[name]; !ok {
			return fmt.Errorf("%w: no export %s (docs/plugins.md)", ErrABI, name)
		}
	}
	if _, ok := cm.ExportedMemories()["memory"]; !ok {
		return fmt.Errorf("%w: no exported memory \"memory\"", ErrABI)
	}
	return nil
}

// read returns the bytes a packed ptr<<32|len result names, copied.
func (m *Module) read(packed uint64, limit uint32) ([]byte, error) {
	ptr, n := uint32(packed>>32), uint32(packed)
	if n > limit {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d allowed", ErrGarbage, n, limit)
	}
	if n == 0 {
		return nil, nil
	}
	b, ok := m.mod.Memory().Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("%w: %d bytes at %#x lie outside its memory", ErrGarbage, n, ptr)
	}
	return append([]byte(nil), b...), nil
}

// Features are the feature IDs the plugin reads, in its order.
func (m *Module) Features() []features.ID { return m.ids }

// Close frees the module. It is safe to call twice.
func (m *Module) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rt != nil {
		m.rt.Close(context.Background())
		m.rt = nil
	}
}
