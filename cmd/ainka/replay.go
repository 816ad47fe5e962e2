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

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/trace"
)

func init() {
	register(command{name: "replay", summary: "run the pipeline on a recorded trace", run: runReplay})
}

const replaySynopsis = "ainka replay FILE [--speed S] [--repeat N] [--config FILE] [--dry-run] [--socket PATH [--hold]] [--policy FILE] [--tap STAGE[=PATH]]... [--metrics-addr ADDR] [--duration D]"

func runReplay(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	var pf pipeFlags
	var df daemonFlags
	pf.register(fs)
	df.register(fs)
	speed := fs.Float64("speed", 0, "pace records by event time: 1 = as captured, 2 = twice as fast; 0 = as fast as possible")
	repeat := fs.Int("repeat", 1, "replay the file `N` times (event time keeps increasing), for benchmarking")
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout, fs, replaySynopsis)
		return exitOK
	}
	if err == nil && len(pos) != 1 {
		err = daemon.Usagef("want exactly one trace FILE, got %d arguments (%s)", len(pos), replaySynopsis)
	}
	if err == nil && *repeat < 1 {
		err = daemon.Usagef("--repeat %d: must be at least 1", *repeat)
	}
	if err == nil && (*speed < 0 || *speed != *speed) {
		err = daemon.Usagef("--speed %v: must be 0 (as fast as possible) or positive", *speed)
	}
	var cfg *config.Config
	if err == nil {
		cfg, err = df.load(false)
	}
	if err == nil && df.printConfig {
		return exitCode(stderr, "replay", printEffectiveConfig(cfg, stdout))
	}
	if err != nil {
		return exitCode(stderr, "replay", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitCode(stderr, "replay", replay(ctx, pos[0], *speed, *repeat, &pf, cfg, stdout, stderr))
}

// replayBatch is the records per batch of a replay: small enough that a
// batch of decoded events (120 bytes each) stays in the L2 cache between
// the decode and aggregate stages, large enough to amortise the hand-off.
const replayBatch = 512

// replayResult is what a replay did, for the summary line and tests.
type replayResult struct {
	events, rejected  uint64
	elapsed           time.Duration
	drops, tapDropped uint64
}

func replay(ctx context.Context, path string, speed float64, repeat int, pf *pipeFlags, cfg *config.Config, stdout, stderr io.Writer) error {
	src, err := source.NewReplay(path, source.ReplayConfig{Speed: speed, Repeat: repeat, BatchRecords: replayBatch})
	if err != nil {
		return err
	}
	hdr := src.Header()
	if hdr.SchemaVersion != decode.SchemaVersion {
		return fmt.Errorf("trace %s: event schema version %d, this ainka decodes version %d", path, hdr.SchemaVersion, decode.SchemaVersion)
	}
	c, taps, err := daemon.Assemble(src, daemon.ChainOptions{Settings: settings.FromHeader(hdr), Config: cfg,
		PolicyFile: pf.policyFile, QueueLen: 8}, pf.taps, stdout)
	if err != nil {
		return err
	}
	defer taps.Close()
	// A replay is a daemon too when asked for a socket (the CLI can then
	// drive it); otherwise it logs to stderr only at warn and above.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var ring *control.LogRing
	if cfg.Daemon.SocketPath != "" {
		var closeLog func() error
		if log, ring, closeLog, err = daemon.NewLogger(cfg, stderr); err != nil {
			return err
		}
		defer closeLog()
	}
	if cfg.Telemetry.EnableDetailedLogging {
		if err := daemon.TapDetails(c.Pipeline, log, true); err != nil {
			return err
		}
	}
	ctl := daemon.NewController(c, "replay", true, nil, nil)
	svc, err := daemon.NewServices(ctl, cfg, ring, log, nil)
	if err != nil {
		return err
	}
	var ms *metricsServer
	if addr := metricsAddr(pf.metricsAddr, cfg); addr != "" {
		if ms, err = listenMetrics(addr, c.Pipeline.Metrics()); err != nil {
			return err
		}
		defer ms.Close()
	}
	ctx, cancel := withDuration(ctx, pf.duration)
	defer cancel()
	var bar *progress
	if isTerminal(stderr) {
		bar = startProgress(stderr, path, repeat, c)
	}
	log.Info("replay started", "trace", path, "kernel", hdr.KernelRelease, "host", hdr.Hostname,
		"policies", c.Decide.State().Policies, "socket", cfg.Daemon.SocketPath)
	var elapsed time.Duration
	runErr := svc.Run(ctx, func(ctx context.Context) error {
		start := time.Now()
		err := c.Pipeline.Run(ctx)
		elapsed = time.Since(start)
		bar.stop()
		log.Info("replay input ended", "events", c.Decoder.Decoded(), "elapsed", elapsed.String())
		if pf.hold && err == nil {
			// --hold: keep serving the control API on the replayed state
			// until SIGINT/SIGTERM (or --duration), for the CLI and demos.
			<-ctx.Done()
		}
		return err
	})
	runErr = errors.Join(runErr, c.Shutdown(log))
	if err := taps.Close(); err != nil && runErr == nil {
		runErr = err
	}
	res := replayResult{events: c.Decoder.Decoded(), rejected: c.Decoder.Rejected(), elapsed: elapsed}
	res.drops, res.tapDropped = c.Drops()
	if runErr != nil {
		// One line: the damage, and how much was replayed before it.
		return fmt.Errorf("%w (%d events replayed before it)", runErr, res.events)
	}
	fmt.Fprintln(stderr, res.summary())
	return nil
}

func (r replayResult) summary() string {
	rate := 0.0
	if s := r.elapsed.Seconds(); s > 0 {
		rate = float64(r.events+r.rejected) / s
	}
	return fmt.Sprintf("replay: %d events in %s (%.0f events/s), %d dropped, %d tap dropped, %d rejected by decode",
		r.events, r.elapsed.Round(time.Microsecond), rate, r.drops, r.tapDropped, r.rejected)
}

// countRecords reads a trace once to know its size in records (for the
// progress bar); a damaged file counts what is before the damage.
func countRecords(path string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	r, err := trace.NewReader(f)
	if err != nil {
		return 0
	}
	for {
		if _, err := r.NextRecord(); err != nil {
			return r.Records()
		}
	}
}
