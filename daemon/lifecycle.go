package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/stages/actuate/journal"
)

var catchOnce sync.Once

// CatchSignals is the first thing a daemon does. SIGHUP's default action
// ends the process, and a reload request that arrives before the reloader
// runs (a unit's ExecReload in the first milliseconds) would kill it with
// its pid file left behind; SIGPIPE's would kill it when a tap's reader
// goes away (`ainka run --tap actuate | head -1`), without restoring a
// knob. Both are caught for the life of the process: a HUP before the
// reloader is harmless, and a broken pipe becomes an EPIPE write error
// the tap handles (see tapGuard).
func CatchSignals() {
	catchOnce.Do(func() {
		// internal/earlysig set SIGHUP to ignored behind Go's back; Ignore
		// then Notify makes Go install its handler again.
		signal.Ignore(syscall.SIGHUP)
		signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP, syscall.SIGPIPE)
	})
}

// lockWorkDir takes the work_dir's exclusive lock before anything else is
// done: a second daemon sharing it would otherwise run crash recovery on
// the live one's knobs (whose journal it reads as a crashed run's). In
// advice-only mode nothing is journaled and no lock is taken.
func lockWorkDir(cfg *config.Config) (func() error, error) {
	if cfg.Daemon.DryRun {
		return func() error { return nil }, nil
	}
	if err := cfg.Daemon.EnsureWorkDir(); err != nil {
		return nil, fmt.Errorf("work_dir: %w", err)
	}
	release, err := journal.LockDir(cfg.Daemon.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("work_dir: %w", err)
	}
	return release, nil
}

// tapGuard keeps a tap whose reader is gone from stopping the daemon: the
// first write error closes the tap (later writes are dropped), is logged
// once, and the daemon goes on.
type tapGuard struct {
	stage  string
	w      io.Writer
	log    **slog.Logger // set by Assemble once the logger is known
	broken atomic.Bool
}

func (g *tapGuard) Write(p []byte) (int, error) {
	if g.broken.Load() {
		return len(p), nil
	}
	if _, err := g.w.Write(p); err != nil {
		g.broken.Store(true)
		if log := *g.log; log != nil {
			log.Warn("tap closed: its output failed (reader gone?); the daemon goes on without it", "stage", g.stage, "err", err)
		}
	}
	return len(p), nil
}
