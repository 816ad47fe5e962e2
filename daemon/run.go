package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/internal/rssgoal"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/source"
)

// Options are the command line's choices for a live run or a replay.
type Options struct {
	// Config is the configuration with the command line laid over it.
	Config *config.Config
	// PolicyFile overrides [policy] policy_file (--policy); it must exist.
	PolicyFile string
	// Tuners overrides every tuner's mode (--tuners off|advise|act).
	Tuners string
	// Taps write stages' outputs as JSON lines (--tap).
	Taps []TapSpec
	// MetricsAddr serves /metrics (--metrics-addr); "" = the
	// configuration's address when export_prometheus is on.
	MetricsAddr string
	// UIAddr serves the web dashboard (--ui-addr); "" = [ui] ui_addr.
	UIAddr string
	// Duration stops the daemon after this long (0: never).
	Duration time.Duration
	// Extend, when set, is called once the chain and the services are
	// built and before anything runs: to add taps or services.
	Extend func(*Chain, *Services) error
	// Stdout receives --tap output without a path; Stderr the log and
	// the summary line.
	Stdout, Stderr io.Writer
	// LogOutput, when set, receives the log instead of Stderr (the
	// terminal view sends it to io.Discard and shows the warnings).
	LogOutput io.Writer
	// JSONLogs writes the log as JSON lines rather than text.
	JSONLogs bool
}

// logOutput is where the log goes: LogOutput, else Stderr.
func (o *Options) logOutput() io.Writer {
	if o.LogOutput != nil {
		return o.LogOutput
	}
	return o.Stderr
}

// metricsAddr is where /metrics is served: --metrics-addr, else the
// configuration's address when export_prometheus is on, else nowhere.
func (o *Options) metricsAddr() string {
	if o.MetricsAddr != "" {
		return o.MetricsAddr
	}
	if o.Config.Telemetry.ExportPrometheus {
		return o.Config.Daemon.MetricsAddr
	}
	return ""
}

// serveMetrics binds /metrics for set when asked to (nil otherwise).
func (o *Options) serveMetrics(set *metrics.Set) (*MetricsServer, error) {
	if addr := o.metricsAddr(); addr != "" {
		return ListenMetrics(addr, set)
	}
	return nil, nil
}

// Run is the daemon on this host: it captures with capture, decides and
// actuates until ctx ends (or Duration), then restores every knob it
// changed and prints one summary line.
func Run(ctx context.Context, o Options, capture source.Config) error {
	if os.Geteuid() != 0 {
		return errNotRoot
	}
	cfg := o.Config
	// Before anything else: a second daemon on this work_dir stops here.
	unlock, err := lockWorkDir(cfg)
	if err != nil {
		return err
	}
	defer unlock()
	st := settings.Live(capture.HostInterval)
	capture.HostPhase = st.HostPhase
	capture = realTimeCapture(cfg.Daemon, capture)
	set := metrics.NewSet()
	capture.Metrics = set
	defer cfg.Apply()() // thread_pool_size
	log, ring, closeLog, err := NewLogger(cfg, o.logOutput(), o.JSONLogs)
	if err != nil {
		return err
	}
	defer closeLog()
	stopMemory, queued, err := governMemory(cfg, capture, log)
	if err != nil {
		return err
	}
	defer stopMemory()
	cleanup, err := prepareHost(cfg)
	if err != nil {
		return err
	}
	defer cleanup()
	// Bind the metrics address before loading anything into the kernel.
	ms, err := o.serveMetrics(set)
	if err != nil {
		return err
	}
	defer ms.Close()
	var probeRefused []control.Plugin
	capture.Probes, probeRefused = LoadProbes(cfg.Plugins.PluginDirs, log)
	live, err := OpenLive(capture)
	if err != nil {
		closeProbes(capture.Probes)
		return err
	}
	defer live.Close()
	if msg := live.Explain(); msg != "" {
		log.Warn(msg)
	}
	kernel := DialKernel(log)
	if kernel != nil {
		defer kernel.Close()
	}
	hdr := captureHeader(live, st.Interval, "")
	rtPrio, _ := cfg.Daemon.RealTime()
	st.Kinds, st.BootOffsetNs = hdr.Kinds, max(hdr.BootOffsetNs, 0)
	return runLive(ctx, o, live, ChainOptions{Settings: st, Config: cfg, Live: true, Kernel: kernel,
		PolicyFile: o.PolicyFile, Tuners: o.Tuners, Logger: log, QueueLen: liveQueueLen, MaxQueuedBytes: queued,
		RealTime: rtPrio, Inline: rtPrio > 0, Metrics: set, Probes: hdr.Probes, ProbeRefused: probeRefused}, ring)
}

// realTimeCapture sets how the source waits: the real-time thread
// (realtime_priority, or latency_mode) waits for the ring and each
// window's end in the kernel, not on Go's poller, whose deadlines reach a
// thread-locked goroutine through another runtime thread
// (source.Config.KernelWait), and spins realtime_wake_spin_us (or
// latency_mode's) before each window's end.
func realTimeCapture(d config.Daemon, capture source.Config) source.Config {
	prio, spin := d.RealTime()
	capture.KernelWait = prio > 0
	capture.WakeSpin = time.Duration(spin) * time.Microsecond
	return capture
}

// governMemory derives the Go memory limit from max_memory_mb, the RSS
// goal, before the ring is mapped: a goal the ring and the binary leave
// no heap in fails here, before anything is loaded into the kernel. It
// returns the pipeline's bound on queued batches (0: none): a third of
// the Go limit, so that a burst the stages cannot follow is dropped at
// the source and counted instead of held (64 queued source batches were
// 36 MiB, more than the whole limit of the default goal).
func governMemory(cfg *config.Config, capture source.Config, log *slog.Logger) (stop func(), queued int64, err error) {
	if cfg.Daemon.MaxMemoryMB == 0 {
		return func() {}, 0, nil
	}
	ring := int64(capture.RingBytes)
	if ring == 0 {
		ring = bpf.DefaultRingBytes
	}
	g, err := rssgoal.Start(cfg.Daemon.MemoryGoal(), ring, log)
	if err != nil {
		return nil, 0, fmt.Errorf("daemon.max_memory_mb: %w", err)
	}
	return g.Stop, g.Limit() / 3, nil
}

// liveQueueLen: a live source must never wait for the pipeline, so the
// queues have room for bursts (64 batches of up to 4096 records). 32 lost
// records at 1 M/s over 60 s (docs/performance.md); 64 held with RSS under
// 64 MiB, but every batch a burst puts in flight stays in the free lists,
// so RSS tracks the largest burst.
const liveQueueLen = 64

// prepareHost writes the pid file (the work directory is made and locked
// by lockWorkDir, first).
func prepareHost(cfg *config.Config) (func() error, error) {
	removePID, err := config.WritePIDFile(cfg.Daemon.PIDFile)
	if err != nil {
		return nil, fmt.Errorf("pid_file: %w", err)
	}
	return removePID, nil
}

// runLive builds the chain behind the capture and runs it with the
// services.
func runLive(ctx context.Context, o Options, live *source.Live, co ChainOptions, ring *control.LogRing) error {
	cfg, log := o.Config, co.Logger
	c, taps, err := Assemble(live, co, o.Taps, o.Stdout)
	if err != nil {
		return err
	}
	defer taps.Close()
	if err := c.Predict.LoadError(); err != nil {
		log.Warn("saved model not usable: learning from scratch", "err", err)
	}
	ctl := NewController(c, "live", cfg.Daemon.DryRun, live, co.Kernel)
	defer ctl.probes.close() // BPF run-time statistics
	svc, err := c.services(o, ctl, ring, log, live)
	if err != nil {
		c.Actuate.Close()
		return err
	}
	ctx, cancel := withDuration(ctx, o.Duration)
	defer cancel()
	log.Info("ainka running", "kinds", fmt.Sprint(live.Attached()), "dry_run", cfg.Daemon.DryRun,
		"socket", cfg.Daemon.SocketPath, "policies", c.Decide.State().Policies)
	start := time.Now()
	if err := c.finish(svc.Run(ctx, c.Pipeline.Run), log, taps); err != nil {
		return err
	}
	fmt.Fprintf(o.Stderr, "run: %d events in %s; %s\n", c.Decoder.Decoded(), time.Since(start).Round(time.Millisecond),
		kindSummary(live.Stats(), live.ProbeStats(), c.decoded))
	return nil
}

// services adds detail logging, sets up the services and lets Extend add
// its own.
func (c *Chain) services(o Options, ctl *Controller, ring *control.LogRing, log *slog.Logger, live *source.Live) (*Services, error) {
	if o.Config.Telemetry.EnableDetailedLogging {
		if err := TapDetails(c.Pipeline, log, live == nil); err != nil {
			return nil, err
		}
	}
	svc, err := NewServices(ctl, o.Config, ring, log, live)
	if err != nil {
		return nil, err
	}
	c.watchLog(ring)
	if err := c.serveUI(o, svc, log); err != nil {
		svc.Close()
		return nil, err
	}
	if o.Extend != nil {
		if err := o.Extend(c, svc); err != nil {
			svc.Close()
			return nil, err
		}
	}
	return svc, nil
}

// finish saves the model, restores the knobs and closes the taps after a
// run, joining their errors to the run's.
func (c *Chain) finish(runErr error, log *slog.Logger, taps *Taps) error {
	runErr = errors.Join(runErr, c.Shutdown(log))
	if err := taps.Close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// withDuration cancels ctx after d (0: never). It cancels rather than
// setting a deadline because a cancelled source is a normal end, while a
// deadline would read as the source failing.
func withDuration(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if d > 0 {
		t := time.AfterFunc(d, cancel)
		return ctx, func() { t.Stop(); cancel() }
	}
	return ctx, cancel
}
