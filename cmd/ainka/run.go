package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/settings"
)

func init() {
	register(command{name: "run", summary: "run the pipeline live on this host (root)", run: runLive})
}

const runSynopsis = "ainka run [--config FILE] [--dry-run] [--no-act] [--socket PATH] [--log-level L] [--tap STAGE[=PATH]]... [--metrics-addr ADDR] [--duration D] [--kinds K,...] [--sample KIND=N]..."

func runLive(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var pf pipeFlags
	var lf liveFlags
	var df daemonFlags
	pf.register(fs)
	lf.register(fs)
	df.register(fs)
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout, fs, runSynopsis)
		return exitOK
	}
	if err == nil && len(pos) != 0 {
		err = daemon.Usagef("unexpected argument %q (%s)", pos[0], runSynopsis)
	}
	var cfg *config.Config
	if err == nil {
		cfg, err = df.load(true)
	}
	if err == nil {
		applyTelemetry(cfg, &lf, explicitFlags(fs))
		if df.printConfig {
			return exitCode(stderr, "run", printEffectiveConfig(cfg, stdout))
		}
	}
	if err != nil {
		return exitCode(stderr, "run", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitCode(stderr, "run", runPipeline(ctx, cfg, &pf, &lf, stdout, stderr))
}

func runPipeline(ctx context.Context, cfg *config.Config, pf *pipeFlags, lf *liveFlags, stdout, stderr io.Writer) error {
	// A live source must never wait for the pipeline: give the queues
	// room for bursts (64 batches of up to 4096 records). 32 lost records
	// at 1 M/s over 60 s (docs/performance.md); 64 held with RSS under
	// 64 MiB, but every batch a burst puts in flight stays in the free
	// lists, so RSS tracks the largest burst.
	set := metrics.NewSet()
	scfg, err := lf.config(set) // bad capture flags are usage errors, root or not
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return daemon.NotReadyError{Err: errors.New("needs root to load eBPF programs (CAP_BPF, CAP_PERFMON): run it as root")}
	}
	st := settings.Live(lf.interval)
	scfg.HostPhase = st.HostPhase
	defer cfg.Apply()() // max_memory_mb, thread_pool_size
	log, ring, closeLog, err := daemon.NewLogger(cfg, stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	removePID, err := config.WritePIDFile(cfg.Daemon.PIDFile)
	if err != nil {
		return fmt.Errorf("pid_file: %w", err)
	}
	defer removePID()
	if !cfg.Daemon.DryRun {
		if err := cfg.Daemon.EnsureWorkDir(); err != nil {
			return fmt.Errorf("work_dir: %w", err)
		}
	}
	// Bind the metrics address before loading anything into the kernel.
	var ms *metricsServer
	if addr := metricsAddr(pf.metricsAddr, cfg); addr != "" {
		if ms, err = listenMetrics(addr, set); err != nil {
			return err
		}
		defer ms.Close()
	}
	live, err := openLive(scfg)
	if err != nil {
		return err
	}
	defer live.Close()
	if msg := live.Explain(); msg != "" {
		log.Warn(msg)
	}
	kernel := daemon.DialKernel(log)
	if kernel != nil {
		defer kernel.Close()
	}
	hdr := captureHeader(live, lf.interval, "")
	st.Kinds, st.BootOffsetNs = hdr.Kinds, max(hdr.BootOffsetNs, 0)
	c, taps, err := daemon.Assemble(live, daemon.ChainOptions{Settings: st, Config: cfg, Live: true, Kernel: kernel,
		PolicyFile: pf.policyFile, Logger: log, QueueLen: 64, Metrics: set}, pf.taps, stdout)
	if err != nil {
		return err
	}
	defer taps.Close()
	if cfg.Telemetry.EnableDetailedLogging {
		if err := daemon.TapDetails(c.Pipeline, log, false); err != nil {
			c.Actuate.Close()
			return err
		}
	}
	if err := c.Predict.LoadError(); err != nil {
		log.Warn("saved model not usable: learning from scratch", "err", err)
	}
	ctl := daemon.NewController(c, "live", cfg.Daemon.DryRun, live, kernel)
	svc, err := daemon.NewServices(ctl, cfg, ring, log, live)
	if err != nil {
		c.Actuate.Close()
		return err
	}
	ctx, cancel := withDuration(ctx, pf.duration)
	defer cancel()
	log.Info("ainka running", "kinds", fmt.Sprint(live.Attached()), "dry_run", cfg.Daemon.DryRun,
		"socket", cfg.Daemon.SocketPath, "policies", c.Decide.State().Policies)
	start := time.Now()
	runErr := svc.Run(ctx, c.Pipeline.Run)
	runErr = errors.Join(runErr, c.Shutdown(log))
	if err := taps.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return runErr
	}
	fmt.Fprintf(stderr, "run: %d events in %s; %s\n", c.Decoder.Decoded(), time.Since(start).Round(time.Millisecond),
		kindSummary(live.Stats(), func(k record.Kind) uint64 { return c.Decoder.Counts[k] }))
	return nil
}
