package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/daemon"
)

func init() {
	register(command{name: "run", summary: "run the pipeline live on this host (root)", run: runLive})
}

const runSynopsis = "ainka run [--config FILE] [--dry-run] [--no-act] [--socket PATH] [--log-level L] [--tap STAGE[=PATH]]... [--tuners MODE] [--metrics-addr ADDR] [--duration D] [--kinds K,...] [--sample KIND=N]..."

func runLive(args []string, stdout, stderr io.Writer) int {
	daemon.CatchSignals() // first: a SIGHUP or SIGPIPE must not kill a daemon that holds knobs
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var pf pipeFlags
	var lf liveFlags
	var df daemonFlags
	var vf viewFlags
	pf.register(fs)
	lf.register(fs)
	df.register(fs)
	vf.register(fs)
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
		given := explicitFlags(fs)
		applyTelemetry(cfg, &lf, given)
		if df.printConfig {
			return exitCode(stderr, "run", printEffectiveConfig(cfg, given, stdout))
		}
		err = validate(cfg, given) // the flags as --dry-run checks them: one validation
	}
	if err != nil {
		return exitCode(stderr, "run", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	capture, err := lf.config() // bad capture flags are usage errors, root or not
	var o daemon.Options
	if err == nil {
		ctx, o, _, err = vf.options(ctx, &pf, cfg, "ainka run", stdout, stderr)
	}
	if err == nil {
		err = daemon.Run(ctx, o, capture)
	}
	return exitCode(stderr, "run", err)
}
