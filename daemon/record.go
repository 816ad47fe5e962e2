package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/trace"
)

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

// RecordOptions say where and how long to record.
type RecordOptions struct {
	Path       string
	Duration   time.Duration // stop after this long
	MaxRecords uint64        // stop after this many records (0: no limit)
	Note       string        // stored in the header: the workload, the command line
	Stderr     io.Writer     // the kernel's limits and the summary line
	// ProbeDirs are probe plugins to record too (LoadProbes); a refused
	// one is reported on Stderr and left out.
	ProbeDirs []string
}

// Record writes the raw records of a live capture into a trace file, with
// the header a replay needs and the kernel's exact counters at the end.
func Record(ctx context.Context, o RecordOptions, capture source.Config) error {
	ctx, cancel := withDuration(ctx, o.Duration)
	defer cancel()
	path, stderr := o.Path, o.Stderr
	p := pipeline.New(pipeline.Options{})
	capture.Metrics = p.Metrics()
	capture.Probes, _ = LoadProbes(o.ProbeDirs, slog.New(slog.NewTextHandler(stderr, nil)))
	live, err := OpenLive(capture)
	if err != nil {
		closeProbes(capture.Probes)
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
	tw, err := trace.NewWriter(f, captureHeader(live, capture.HostInterval, o.Note))
	if err != nil {
		return err
	}
	sink := &recordSink{w: tw, live: live, max: o.MaxRecords, stop: cancel}
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
		kindSummary(stats, live.ProbeStats(), nil))
	return nil
}
