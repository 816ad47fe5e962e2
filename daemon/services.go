package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/kmod/genl"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/view/web"
	"github.com/sourcegraph/conc/pool"
)

// Services are what runs beside the pipeline: the control socket, the
// policy file watcher, SIGHUP reloads, model saves, the kernel module's
// events and the metrics push to a fleet store. They and the pipeline run in one pool that cancels on
// the first error, so a service that fails stops the daemon with its error
// instead of going unnoticed until shutdown.
type Services struct {
	tasks []task
	srv   *control.Server // nil: no control socket
	ui    *web.Server     // nil: no dashboard
}

type task struct {
	name string
	run  func(context.Context) error
}

// Go adds a service. It runs until its context is cancelled (the
// pipeline ended, or another service failed); an error it returns stops
// the daemon and is reported as "NAME: ERR".
func (s *Services) Go(name string, run func(context.Context) error) {
	s.tasks = append(s.tasks, task{name: name, run: run})
}

// NewServices binds the control socket (before anything is loaded into
// the kernel: a daemon that cannot be controlled should not start) and
// sets up the services for ctl. live may be nil (a replay).
func NewServices(ctl *Controller, cfg *config.Config, ring *control.LogRing, log *slog.Logger, live *source.Live) (*Services, error) {
	s := &Services{}
	pusher, err := newPusher(cfg, ctl.set, log)
	if err != nil {
		return nil, err
	}
	if pusher != nil {
		s.Go("metrics push", pusher.Run)
	}
	if cfg.Daemon.SocketPath != "" {
		srv, err := control.NewServer(ctl, control.Options{
			SocketPath: cfg.Daemon.SocketPath, Group: cfg.Daemon.SocketGroup, Logs: ring, Logger: log,
		})
		if err != nil {
			return nil, UsageError{fmt.Errorf("control socket: %w", err)}
		}
		if err := srv.Listen(); err != nil {
			return nil, fmt.Errorf("control socket: %w", err)
		}
		s.srv = srv
		s.Go("control socket", srv.Serve)
	}
	s.Go("policy watcher", func(ctx context.Context) error { ctl.dec.Watch(ctx); return nil })
	s.Go("policy reload", func(ctx context.Context) error { reloadOnHUP(ctx, ctl, log); return nil })
	if every := cfg.ML.TrainingInterval(); live != nil && ctl.pred.Config().ModelPath != "" && every > 0 {
		s.Go("model saver", func(ctx context.Context) error { saveModelEvery(ctx, ctl.pred, every, log); return nil })
	}
	if ctl.kernel != nil && live != nil {
		s.Go("kernel module events", func(ctx context.Context) error { return forwardKernelEvents(ctx, ctl.kernel, live, log) })
	}
	return s, nil
}

// Run runs main (the pipeline) beside the services. The pipeline's end
// stops the services; a service's failure cancels main's context (for the
// pipeline, a normal end) and is returned, joined with every other error.
func (s *Services) Run(ctx context.Context, main func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wp := pool.New().WithContext(ctx).WithCancelOnError()
	for _, t := range s.tasks {
		wp.Go(func(ctx context.Context) error {
			if err := t.run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			return nil
		})
	}
	wp.Go(func(ctx context.Context) error {
		defer cancel() // the pipeline is done: stop the services
		return main(ctx)
	})
	return wp.Wait()
}

// Close releases what NewServices took when Run is not called (a later
// step of the start failed): the control socket is unbound and its file
// removed, as at the end of a run.
func (s *Services) Close() error {
	if s == nil {
		return nil
	}
	if s.ui != nil {
		s.ui.Close()
	}
	if s.srv == nil {
		return nil
	}
	// Serving with a context that is already done is the server's own
	// shutdown path: it closes the listener and removes the socket file.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return s.srv.Serve(ctx)
}

// reloadOnHUP reloads the policy file and the plugins on SIGHUP; a bad
// file keeps the old policies (a bad plugin the old plugin) running.
func reloadOnHUP(ctx context.Context, d *Controller, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := d.dec.Reload(); err != nil {
				log.Error("policy reload failed; the previous policies stay in force", "err", err)
			} else {
				log.Info("policies reloaded", "policies", d.dec.State().Policies)
			}
			d.reloadPlugins(log)
		}
	}
}

// forwardKernelEvents turns the module's multicast decisions and state
// changes into kernel_decision records in the event stream, so they are
// decoded, counted and tapped like every other event.
func forwardKernelEvents(ctx context.Context, k genl.Client, live *source.Live, log *slog.Logger) error {
	ch, err := k.Subscribe(ctx)
	if err != nil {
		log.Warn("kernel module events unavailable", "err", err)
		return nil
	}
	var rec []byte
	for ev := range ch {
		rec = ev.AppendRecord(rec[:0])
		if err := live.Inject(rec); err != nil {
			log.Warn("kernel decision not queued", "err", err)
		}
	}
	return nil
}

// saveModelEvery persists the learned state every training interval, so a
// crash loses at most one interval of learning.
func saveModelEvery(ctx context.Context, pred *predict.Stage, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-t.C:
			if err := pred.Save(); err != nil {
				log.Error("save model", "err", err)
			}
		}
	}
}
