package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/pipeline"
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
		err = usagef("unexpected argument %q (%s)", pos[0], runSynopsis)
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
	p := pipeline.New(pipeline.Options{QueueLen: 64})
	scfg, err := lf.config(p.Metrics()) // bad capture flags are usage errors, root or not
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return notReadyError{errors.New("needs root to load eBPF programs (CAP_BPF, CAP_PERFMON): run it as root")}
	}
	// Live, the ring delivers records in reservation order, microseconds
	// apart across CPUs: a window can close 2 ms after its end rather than
	// the replay default of half an interval, which is 50 ms off every
	// decision. Host samples are taken just past each window's end (after
	// draining the ring) so that their timestamps close windows at once.
	var lateness time.Duration // 0: the aggregator's default
	if lf.interval >= 8*time.Millisecond {
		lateness = 2 * time.Millisecond
		scfg.HostPhase = lateness + 500*time.Microsecond
	}
	defer cfg.Apply()() // max_memory_mb, thread_pool_size
	log, ring, closeLog, err := newLogger(cfg, stderr)
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
		if ms, err = listenMetrics(addr, p.Metrics()); err != nil {
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
	kernel := dialKernel(log)
	if kernel != nil {
		defer kernel.Close()
	}
	in := pipeline.AddSource[[]byte](p, "source", live, sourceOptions()...)
	hdr := captureHeader(live, lf.interval, "")
	agg := aggConfigFromHeader(hdr)
	agg.LatenessMs = uint32(lateness / time.Millisecond)
	c, err := buildChain(p, in, chainConfig{agg: agg, taps: pf.taps, stdout: stdout,
		policyFile: pf.policyFile, logger: log, conf: cfg, live: true, kernel: kernel, bootOffsetNs: max(hdr.BootOffsetNs, 0)})
	if err != nil {
		return err
	}
	defer c.close()
	if cfg.Telemetry.EnableDetailedLogging {
		if err := tapDetails(p, log, false); err != nil {
			return err
		}
	}
	if err := c.pred.LoadError(); err != nil {
		log.Warn("saved model not usable: learning from scratch", "err", err)
	}
	d := &daemon{mode: "live", started: time.Now(), dryRun: cfg.Daemon.DryRun, p: p, set: p.Metrics(),
		live: live, pred: c.pred, dec: c.dcd, act: c.act, kernel: kernel}
	svc, err := startServices(ctx, d, cfg, ring, log, live)
	if err != nil {
		c.act.Close()
		return err
	}
	ctx, cancel := withDuration(ctx, pf.duration)
	defer cancel()
	log.Info("ainka running", "kinds", fmt.Sprint(live.Attached()), "dry_run", cfg.Daemon.DryRun,
		"socket", cfg.Daemon.SocketPath, "policies", c.dcd.State().Policies)
	start := time.Now()
	runErr := p.Run(ctx)
	runErr = errors.Join(runErr, svc.stop(), shutdown(c, log))
	if err := c.close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("close tap file: %w", err)
	}
	if runErr != nil {
		return runErr
	}
	fmt.Fprintf(stderr, "run: %d events in %s; %s\n", c.dec.Decoded(), time.Since(start).Round(time.Millisecond),
		kindSummary(live.Stats(), func(k record.Kind) uint64 { return c.dec.Counts[k] }))
	return nil
}

// shutdown saves what was learned and puts back every knob AINKA changed.
func shutdown(c *chain, log *slog.Logger) error {
	var errs []error
	if c.pred.Config().ModelPath != "" {
		if err := c.pred.Save(); err != nil {
			errs = append(errs, fmt.Errorf("save model: %w", err))
		} else {
			log.Info("model saved", "path", c.pred.Config().ModelPath)
		}
	}
	if err := c.act.Close(); err != nil {
		errs = append(errs, fmt.Errorf("restore knobs: %w", err))
	}
	return errors.Join(errs...)
}
