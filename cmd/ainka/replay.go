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
	"golang.org/x/term"
)

func init() {
	register(command{name: "replay", summary: "run the pipeline on a recorded trace", run: runReplay})
}

const replaySynopsis = "ainka replay FILE [--speed S] [--repeat N] [--config FILE] [--dry-run] [--socket PATH [--hold]] [--policy FILE] [--tap STAGE[=PATH]]... [--tuners MODE] [--metrics-addr ADDR] [--duration D]"

func runReplay(args []string, stdout, stderr io.Writer) int {
	daemon.CatchSignals() // first: a SIGHUP or SIGPIPE must not kill a daemon that holds knobs
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	var pf pipeFlags
	var df daemonFlags
	var vf viewFlags
	pf.register(fs)
	df.register(fs)
	vf.register(fs)
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
		return exitCode(stderr, "replay", printEffectiveConfig(cfg, nil, stdout))
	}
	if err != nil {
		return exitCode(stderr, "replay", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, o, shown, err := vf.options(ctx, &pf, cfg, "ainka replay "+pos[0], stdout, stderr)
	if err != nil {
		return exitCode(stderr, "replay", err)
	}
	// The terminal view stays on the replay's final state until q: the
	// replay holds, and q ends it.
	return exitCode(stderr, "replay", daemon.Replay(ctx, o,
		daemon.ReplayOptions{Path: pos[0], Speed: *speed, Repeat: *repeat, Hold: pf.hold || shown, Progress: isTerminal(stderr) && !shown}))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
