package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/kmod/genl"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/source"
	"github.com/sourcegraph/conc/pool"
)

// daemonFlags make run and replay a configured, controllable daemon.
type daemonFlags struct {
	configPath  string
	socket      string
	logLevel    string
	printConfig bool
	noAct       bool
}

func (f *daemonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.configPath, "config", "", "configuration `FILE` (run: default "+config.DefaultPath+" when present; replay: built-in defaults)")
	fs.StringVar(&f.socket, "socket", "", "serve the control API on this unix socket `PATH` (run: default from the configuration; replay: only when given); also $AINKA_SOCKET")
	fs.StringVar(&f.logLevel, "log-level", "", "log `LEVEL`: debug, info, warn or error (default from the configuration)")
	fs.BoolVar(&f.printConfig, "dry-run", false, "validate the configuration, print the effective configuration and exit")
	fs.BoolVar(&f.noAct, "no-act", false, "advice only: decide and report every change but make none (the configuration's dry_run)")
}

// load reads the configuration and lays the command-line overrides on it.
// A replay without --config starts from the built-in defaults, never from
// the host's installed file: a replay must not load this host's model or
// policies unless asked to.
func (f *daemonFlags) load(live bool) (*config.Config, error) {
	var cfg *config.Config
	if live || f.configPath != "" {
		c, err := config.Load(f.configPath)
		if err != nil {
			return nil, usageError{err}
		}
		cfg = c
	} else {
		cfg = config.Default()
		cfg.Policy.PolicyFile = ""
		cfg.ML.ModelPath = ""
		cfg.Daemon.SocketPath = "" // a replay serves no socket unless asked
	}
	if f.logLevel != "" {
		if _, err := config.ParseLogLevel(f.logLevel); err != nil {
			return nil, usagef("--log-level: %v", err)
		}
		cfg.Daemon.LogLevel = f.logLevel
	}
	if f.noAct {
		cfg.Daemon.DryRun = true
	}
	switch {
	case f.socket != "":
		cfg.Daemon.SocketPath = f.socket
	case os.Getenv("AINKA_SOCKET") != "":
		cfg.Daemon.SocketPath = os.Getenv("AINKA_SOCKET")
	}
	return cfg, nil
}

// printEffectiveConfig is --dry-run: validate the configuration and print
// it as it will be used; any problem is a usage error (exit 2).
func printEffectiveConfig(cfg *config.Config, w io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if err := cfg.WriteTOML(w); err != nil {
		return usageError{err}
	}
	return nil
}

// explicitFlags returns the names of the flags given on the command line.
func explicitFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// applyTelemetry fills the capture flags that were not given from the
// [telemetry] section, and records the given ones in the configuration so
// that --dry-run prints what will really be used.
func applyTelemetry(cfg *config.Config, lf *liveFlags, given map[string]bool) {
	t := &cfg.Telemetry
	if given["interval"] {
		t.CollectionIntervalMS = int(lf.interval.Milliseconds())
	} else {
		lf.interval = t.CollectionInterval()
	}
	if given["ring-mb"] {
		t.RingBufferMB = lf.ringMB
	} else {
		lf.ringMB = t.RingBufferMB
	}
	if given["kinds"] {
		t.EventKinds = strings.Split(lf.kinds, ",")
	} else {
		// host samples (PSI, MemAvailable) are not an eBPF kind: always on.
		lf.kinds = strings.Join(append(append([]string(nil), t.EventKinds...), "host_sample"), ",")
	}
	if !given["sample"] {
		for name, n := range t.Sampling {
			if k, err := record.ParseKind(name); err == nil {
				lf.sample[k] = strconv.Itoa(n)
			}
		}
	}
}

// metricsAddr is where /metrics is served: --metrics-addr, else the
// configuration's address when export_prometheus is on, else nowhere.
func metricsAddr(flagAddr string, cfg *config.Config) string {
	if flagAddr != "" {
		return flagAddr
	}
	if cfg.Telemetry.ExportPrometheus {
		return cfg.Daemon.MetricsAddr
	}
	return ""
}

// newLogger builds the daemon's structured logger: JSON to log_file (or
// text to stderr), every record also kept in the ring for `ainka-cli logs`.
func newLogger(cfg *config.Config, stderr io.Writer) (*slog.Logger, *control.LogRing, func() error, error) {
	out, closeLog, err := cfg.Daemon.OpenLogOutput(stderr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open log_file: %w", err)
	}
	opts := &slog.HandlerOptions{Level: cfg.Daemon.SlogLevel()}
	var h slog.Handler = slog.NewTextHandler(out, opts)
	if cfg.Daemon.LogFile != "" {
		h = slog.NewJSONHandler(out, opts)
	}
	ring := control.NewLogRing(0)
	return slog.New(ring.Handler(h)), ring, closeLog, nil
}

// journalPath is where actuate journals original values; none in advice
// mode, where nothing is written.
func journalPath(cfg *config.Config) string {
	if cfg.Daemon.DryRun {
		return ""
	}
	return filepath.Join(cfg.Daemon.WorkDir, "journal")
}

// dialKernel connects to the kernel module. Not loaded is a normal state:
// the daemon says so and actuates from user space.
func dialKernel(log *slog.Logger) genl.Client {
	c, err := genl.Dial()
	if err != nil {
		if errors.Is(err, genl.ErrNotLoaded) {
			log.Info("kernel module not loaded: actuating from user space")
		} else {
			log.Warn("kernel module unreachable: actuating from user space", "err", err)
		}
		return nil
	}
	log.Info("kernel module connected")
	return c
}

// services are what runs beside the pipeline: the control socket, the
// policy file watcher, SIGHUP reloads and the kernel module's events.
type services struct {
	wp     *pool.ContextPool
	cancel context.CancelFunc
	srv    *control.Server
}

// startServices binds the control socket (before anything is loaded into
// the kernel: a daemon that cannot be controlled should not start) and
// starts the goroutines. live may be nil (replay).
func startServices(ctx context.Context, d *daemon, cfg *config.Config, ring *control.LogRing, log *slog.Logger, live *source.Live) (*services, error) {
	s := &services{}
	if cfg.Daemon.SocketPath != "" {
		srv, err := control.NewServer(d, control.Options{
			SocketPath: cfg.Daemon.SocketPath, Group: cfg.Daemon.SocketGroup, Logs: ring, Logger: log,
		})
		if err != nil {
			return nil, usageError{fmt.Errorf("control socket: %w", err)}
		}
		if err := srv.Listen(); err != nil {
			return nil, fmt.Errorf("control socket: %w", err)
		}
		s.srv = srv
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.wp = pool.New().WithContext(ctx)
	if s.srv != nil {
		s.wp.Go(s.srv.Serve)
	}
	s.wp.Go(func(ctx context.Context) error { d.dec.Watch(ctx); return nil })
	s.wp.Go(func(ctx context.Context) error { reloadOnHUP(ctx, d, log); return nil })
	if every := cfg.ML.TrainingInterval(); live != nil && d.pred.Config().ModelPath != "" && every > 0 {
		s.wp.Go(func(ctx context.Context) error { saveModelEvery(ctx, d.pred, every, log); return nil })
	}
	if d.kernel != nil && live != nil {
		s.wp.Go(func(ctx context.Context) error { return forwardKernelEvents(ctx, d.kernel, live, log) })
	}
	return s, nil
}

// stop ends the services and waits for them.
func (s *services) stop() error {
	s.cancel()
	return s.wp.Wait()
}

// reloadOnHUP reloads the policy file on SIGHUP; a bad file keeps the old
// policies running.
func reloadOnHUP(ctx context.Context, d *daemon, log *slog.Logger) {
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

// detailLogger logs each JSON line a tap writes (enable_detailed_logging:
// every window's features and every decision) as one structured record.
type detailLogger struct {
	log  *slog.Logger
	msg  string
	mu   sync.Mutex
	rest []byte
}

func (w *detailLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rest = append(w.rest, p...)
	for {
		i := bytes.IndexByte(w.rest, '\n')
		if i < 0 {
			break
		}
		line := bytes.Clone(w.rest[:i])
		w.rest = w.rest[i+1:]
		w.log.Info(w.msg, "data", json.RawMessage(line))
	}
	return len(p), nil
}

// tapDetails subscribes the detail logger to features and decide.
func tapDetails(p *pipeline.Pipeline, log *slog.Logger, lossless bool) error {
	for stage, msg := range map[string]string{"features": "window", "decide": "decision"} {
		if err := p.Tap(stage, &detailLogger{log: log, msg: msg}, pipeline.TapOptions{Lossless: lossless}); err != nil {
			return err
		}
	}
	return nil
}

// saveModelEvery persists the learned state every training interval, so a
// crash loses at most one interval of learning.
func saveModelEvery(ctx context.Context, pred *predict.Stage, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := pred.Save(); err != nil {
				log.Error("save model", "err", err)
			}
		}
	}
}
