package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ainka/ainka/daemon"
)

func init() {
	register(command{name: "record", summary: "record raw events into a trace file (root)", run: runRecord})
}

const recordSynopsis = "ainka record -o FILE --duration D [--kinds K,...] [--sample KIND=N]... [--max-records N] [--note TEXT] [--probes DIRS]"

func runRecord(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	var lf liveFlags
	lf.register(fs)
	out := fs.String("o", "", "write the trace to `FILE`")
	duration := fs.Duration("duration", 10*time.Second, "record for this long")
	maxRecords := fs.Uint64("max-records", 0, "stop after `N` records (0 = no limit)")
	note := fs.String("note", "", "free text stored in the header: the workload, the command line")
	probes := fs.String("probes", "", "record the probe plugins of `DIRS` too (comma-separated: plugin directories or directories of them)")
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout, fs, recordSynopsis)
		return exitOK
	}
	switch {
	case err != nil:
	case len(pos) != 0:
		err = daemon.Usagef("unexpected argument %q (%s)", pos[0], recordSynopsis)
	case *out == "":
		err = daemon.Usagef("-o FILE is required (%s)", recordSynopsis)
	case *duration <= 0:
		err = daemon.Usagef("--duration %s: must be positive", *duration)
	}
	if err != nil {
		return exitCode(stderr, "record", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	capture, err := lf.config()
	if err == nil {
		err = daemon.Record(ctx, daemon.RecordOptions{Path: *out, Duration: *duration, MaxRecords: *maxRecords, Note: *note, Stderr: stderr,
			ProbeDirs: strings.FieldsFunc(*probes, func(r rune) bool { return r == ',' })}, capture)
	}
	return exitCode(stderr, "record", err)
}
