package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// ErrAlreadyRunning is returned by WritePIDFile when the pid file names a
// live process.
var ErrAlreadyRunning = errors.New("already running")

// Apply sets GOMAXPROCS from daemon.thread_pool_size (0 leaves it as it
// is). It returns a function that restores the previous value, for tests
// and for a daemon that reloads its configuration. daemon.max_memory_mb is
// an RSS goal, not a Go limit: the daemon derives its Go memory limit from
// it (internal/rssgoal), knowing the ring and the binary.
//
// With latency_mode and a memory goal it also turns off the collector's
// proportional pacing (GOGC): the heap is then collected only as it nears
// the Go memory limit the daemon derives from the goal, a few times less
// often. Each collection stops the world, the real-time thread with it,
// until every other thread of the process has stopped, and those wait for
// a CPU behind the host's tasks: the probe measured stops of up to 2.5 to
// 3.5 ms on this busy 2-vCPU VM (docs/performance.md). Without a goal there
// is no limit, and the pacing stays.
func (c *Config) Apply() (restore func()) {
	prevProcs := runtime.GOMAXPROCS(0)
	if c.Daemon.ThreadPoolSize > 0 {
		runtime.GOMAXPROCS(c.Daemon.ThreadPoolSize)
	}
	prevGC := -2 // unchanged
	if c.Daemon.LatencyMode && c.Daemon.MaxMemoryMB > 0 {
		prevGC = debug.SetGCPercent(-1)
	}
	return func() {
		runtime.GOMAXPROCS(prevProcs)
		if prevGC != -2 {
			debug.SetGCPercent(prevGC)
		}
	}
}

// OpenLogOutput returns where the structured log goes: daemon.log_file,
// opened for append (its directory created), or fallback when log_file is
// empty. The returned close function is a no-op for fallback.
func (d Daemon) OpenLogOutput(fallback io.Writer) (io.Writer, func() error, error) {
	if d.LogFile == "" {
		return fallback, func() error { return nil }, nil
	}
	if err := os.MkdirAll(filepath.Dir(d.LogFile), 0o755); err != nil {
		return nil, nil, fmt.Errorf("create log directory: %w", err)
	}
	f, err := os.OpenFile(d.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("open log file: %w", err)
	}
	return f, f.Close, nil
}

// EnsureWorkDir creates daemon.work_dir (mode 0700: it holds the actuation
// journal, which records the host's original settings).
func (d Daemon) EnsureWorkDir() error {
	if err := os.MkdirAll(d.WorkDir, 0o700); err != nil {
		return fmt.Errorf("create work_dir: %w", err)
	}
	return nil
}

// WritePIDFile writes this process's pid to path, creating its directory.
// A pid file left by a process that is gone is replaced; one naming a live
// process other than this one gives ErrAlreadyRunning. The returned function
// removes the file if it still holds this pid. An empty path does nothing.
func WritePIDFile(path string) (remove func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	self := os.Getpid()
	if old, err := readPID(path); err == nil && old != self && processAlive(old) {
		return nil, fmt.Errorf("pid file %s: %w as pid %d", path, ErrAlreadyRunning, old)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create pid file directory: %w", err)
	}
	// A temporary name nobody can guess, created O_EXCL (never through a
	// symlink someone planted), renamed over path (rename replaces a
	// symlink at path, it does not follow it).
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("write pid file: %w", err)
	}
	tmp := f.Name()
	_, err = f.WriteString(strconv.Itoa(self) + "\n")
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("write pid file: %w", err)
	}
	return func() error {
		if pid, err := readPID(path); err != nil || pid != self {
			return nil // replaced by someone else: not ours to remove
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove pid file: %w", err)
		}
		return nil
	}, nil
}

func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: %q is not a pid", path, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
