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

	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/trace"
)

func init() {
	register(command{name: "record", summary: "record raw events into a trace file (root)", run: runRecord})
}

const recordSynopsis = "ainka record -o FILE --duration D [--kinds K,...] [--sample KIND=N]... [--max-records N] [--note TEXT]"

func runRecord(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	var lf liveFlags
	lf.register(fs)
	out := fs.String("o", "", "write the trace to `FILE`")
	duration := fs.Duration("duration", 10*time.Second, "record for this long")
	maxRecords := fs.Uint64("max-records", 0, "stop after `N` records (0 = no limit)")
	note := fs.String("note", "", "free text stored in the header: the workload, the command line")
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
	ctx, cancel := withDuration(ctx, *duration)
	defer cancel()
	return exitCode(stderr, "record", recordTrace(ctx, cancel, *out, *maxRecords, *note, &lf, stderr))
}

// recordSink is the stage that writes raw records into the trace, with a
// stats snapshot every second of event time.
type recordSink struct {
	w        *trace.Writer
	live     *source.Live
	max      uint64
	stop     context.CancelFunc
	lastStat uint64
	err      error
}

func (s *recordSink) Process(in [][]byte, out []struct{}) []struct{} {
	for _, rec := range in {
		if s.err != nil || (s.max > 0 && s.w.Records() >= s.max) {
			s.stop()
			return out
		}
		s.err = s.w.WriteRecord(rec)
		if len(rec) >= 8 {
			ts := uint64(rec[0]) | uint64(rec[1])<<8 | uint64(rec[2])<<16 | uint64(rec[3])<<24 |
				uint64(rec[4])<<32 | uint64(rec[5])<<40 | uint64(rec[6])<<48 | uint64(rec[7])<<56
			if ts >= s.lastStat+uint64(time.Second) {
				s.lastStat = ts
				st := traceStats(s.live.Stats())
				if err := s.w.WriteStats(&st); err != nil && s.err == nil {
					s.err = err
				}
			}
		}
	}
	return out
}

func recordTrace(ctx context.Context, cancel context.CancelFunc, path string, maxRecords uint64, note string, lf *liveFlags, stderr io.Writer) error {
	p := pipeline.New(pipeline.Options{})
	cfg, err := lf.config(p.Metrics())
	if err != nil {
		return err
	}
	live, err := openLive(cfg)
	if err != nil {
		return err
	}
	defer live.Close()
	if msg := live.Explain(); msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create trace: %w", err)
	}
	defer f.Close()
	tw, err := trace.NewWriter(f, captureHeader(live, lf.interval, note))
	if err != nil {
		return err
	}
	sink := &recordSink{w: tw, live: live, max: maxRecords, stop: cancel}
	src := pipeline.AddSource[[]byte](p, "source", live)
	pipeline.AddStage[[]byte, struct{}](p, "record", src, sink)
	start := time.Now()
	if err := p.Run(ctx); err != nil {
		return err
	}
	if sink.err != nil {
		return fmt.Errorf("write trace %s: %w", path, sink.err)
	}
	// The source has stopped: these counters are final and exact.
	stats := live.Stats()
	st := traceStats(stats)
	if err := tw.WriteStats(&st); err != nil {
		return fmt.Errorf("write trace %s: %w", path, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write trace %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write trace %s: %w", path, err)
	}
	fi, _ := os.Stat(path)
	size := int64(0)
	if fi != nil {
		size = fi.Size()
	}
	fmt.Fprintf(stderr, "record: %d records, %d bytes to %s in %s; %s\n", tw.Records(), size, path, time.Since(start).Round(time.Millisecond),
		kindSummary(stats, nil))
	return nil
}
