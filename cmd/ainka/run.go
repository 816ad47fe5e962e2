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

	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/pipeline"
)

func init() {
	register(command{name: "run", summary: "run the pipeline live on this host (root)", run: runLive})
}

const runSynopsis = "ainka run [--tap STAGE[=PATH]]... [--metrics-addr ADDR] [--duration D] [--kinds K,...] [--sample KIND=N]..."

func runLive(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var pf pipeFlags
	var lf liveFlags
	pf.register(fs)
	lf.register(fs)
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout, fs, runSynopsis)
		return exitOK
	}
	if err == nil && len(pos) != 0 {
		err = usagef("unexpected argument %q (%s)", pos[0], runSynopsis)
	}
	if err != nil {
		return exitCode(stderr, "run", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitCode(stderr, "run", runPipeline(ctx, &pf, &lf, stdout, stderr))
}

func runPipeline(ctx context.Context, pf *pipeFlags, lf *liveFlags, stdout, stderr io.Writer) error {
	p := pipeline.New(pipeline.Options{})
	cfg, err := lf.config(p.Metrics())
	if err != nil {
		return err
	}
	// Bind the metrics address before loading anything into the kernel.
	var ms *metricsServer
	if pf.metricsAddr != "" {
		if ms, err = listenMetrics(pf.metricsAddr, p.Metrics()); err != nil {
			return err
		}
		defer ms.Close()
	}
	live, err := openLive(cfg)
	if err != nil {
		return err
	}
	defer live.Close()
	if msg := live.Explain(); msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	in := pipeline.AddSource[[]byte](p, "source", live, sourceOptions()...)
	agg := aggConfigFromHeader(captureHeader(live, lf.interval, ""))
	c, err := buildChain(p, in, chainConfig{agg: agg, taps: pf.taps, stdout: stdout,
		policyFile: pf.policyFile, logger: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return err
	}
	defer c.close()
	ctx, cancel := withDuration(ctx, pf.duration)
	defer cancel()
	start := time.Now()
	runErr := p.Run(ctx)
	if err := c.close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("close tap file: %w", err)
	}
	if runErr != nil {
		return runErr
	}
	fmt.Fprintf(stderr, "run: %d events in %s; %s\n", c.dec.Decoded(), time.Since(start).Round(time.Millisecond),
		kindSummary(live.Stats(), func(k bpf.Kind) uint64 { return c.dec.Counts[k] }))
	return nil
}
