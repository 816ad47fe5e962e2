package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/trace"
)

// ReplayOptions say which trace to replay and how.
type ReplayOptions struct {
	Path   string
	Speed  float64 // 0: as fast as possible; 1: as captured
	Repeat int     // times through the file (event time keeps increasing)
	// Hold keeps serving the control socket after the input ends, until
	// ctx ends (or Duration).
	Hold bool
	// Progress draws a progress line on Stderr (a terminal).
	Progress bool
}

// ReplayBatch is the records per batch of a replay: small enough that a
// batch of decoded events (120 bytes each) stays in the L2 cache between
// the decode and aggregate stages, large enough to amortise the hand-off.
const ReplayBatch = 512

// replayResult is what a replay did, for the summary line and tests.
type replayResult struct {
	events, rejected  uint64
	elapsed           time.Duration
	drops, tapDropped uint64
}

// Replay runs the chain on a recorded trace with the settings it was
// recorded with. It decides as the live run did but never changes this
// host; with a socket it is a daemon the CLI can drive.
func Replay(ctx context.Context, o Options, r ReplayOptions) error {
	src, err := source.NewReplay(r.Path, source.ReplayConfig{Speed: r.Speed, Repeat: r.Repeat, BatchRecords: ReplayBatch})
	if err != nil {
		return err
	}
	hdr := src.Header()
	if hdr.SchemaVersion < decode.MinSchemaVersion || hdr.SchemaVersion > decode.SchemaVersion {
		return fmt.Errorf("trace %s: event schema version %d, this ainka decodes versions %d to %d",
			r.Path, hdr.SchemaVersion, decode.MinSchemaVersion, decode.SchemaVersion)
	}
	c, taps, err := Assemble(src, ChainOptions{Settings: settings.FromHeader(hdr), Config: o.Config,
		PolicyFile: o.PolicyFile, Tuners: o.Tuners, QueueLen: 8, Probes: hdr.Probes}, o.Taps, o.Stdout)
	if err != nil {
		return err
	}
	defer taps.Close()
	log, ring, closeLog, err := replayLogger(o)
	if err != nil {
		return err
	}
	defer closeLog()
	svc, err := c.services(o, NewController(c, "replay", true, nil, nil), ring, log, nil)
	if err != nil {
		return err
	}
	ms, err := o.serveMetrics(c.Pipeline.Metrics())
	if err != nil {
		svc.Close()
		return err
	}
	defer ms.Close()
	ctx, cancel := withDuration(ctx, o.Duration)
	defer cancel()
	log.Info("replay started", "trace", r.Path, "kernel", hdr.KernelRelease, "host", hdr.Hostname,
		"policies", c.Decide.State().Policies, "socket", o.Config.Daemon.SocketPath)
	res := replayResult{}
	runErr := c.finish(svc.Run(ctx, c.replayRun(o, r, log, &res.elapsed)), log, taps)
	res.events, res.rejected = c.Decoder.Decoded(), c.Decoder.Rejected()
	res.drops, res.tapDropped = c.Drops()
	if runErr != nil {
		// One line: the damage, and how much was replayed before it.
		return fmt.Errorf("%w (%d events replayed before it)", runErr, res.events)
	}
	fmt.Fprintln(o.Stderr, res.summary())
	return nil
}

// replayLogger: a replay is a daemon too when asked for a socket (the CLI
// can then drive it); otherwise it logs to stderr only at warn and above,
// kept in a ring for the view too.
func replayLogger(o Options) (*slog.Logger, *control.LogRing, func() error, error) {
	if o.Config.Daemon.SocketPath != "" {
		return NewLogger(o.Config, o.logOutput(), o.JSONLogs)
	}
	opts := &slog.HandlerOptions{Level: slog.LevelWarn}
	var h slog.Handler = slog.NewTextHandler(o.logOutput(), opts)
	if o.JSONLogs {
		h = slog.NewJSONHandler(o.logOutput(), opts)
	}
	ring := control.NewLogRing(0)
	return slog.New(ring.Handler(h)), ring, func() error { return nil }, nil
}

// replayRun runs the pipeline to the end of the trace, with the progress
// line, then holds when asked to.
func (c *Chain) replayRun(o Options, r ReplayOptions, log *slog.Logger, elapsed *time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		var bar *progress
		if r.Progress {
			bar = startProgress(o.Stderr, r.Path, r.Repeat, c)
		}
		start := time.Now()
		err := c.Pipeline.Run(ctx)
		*elapsed = time.Since(start)
		bar.stop()
		log.Info("replay input ended", "events", c.Decoder.Decoded(), "elapsed", elapsed.String())
		if r.Hold && err == nil {
			// --hold: keep serving the control API on the replayed state
			// until SIGINT/SIGTERM (or --duration), for the CLI and demos.
			<-ctx.Done()
		}
		return err
	}
}

func (r replayResult) summary() string {
	rate := 0.0
	if s := r.elapsed.Seconds(); s > 0 {
		rate = float64(r.events+r.rejected) / s
	}
	return fmt.Sprintf("replay: %d events in %s (%.0f events/s), %d dropped, %d tap dropped, %d rejected by decode",
		r.events, r.elapsed.Round(time.Microsecond), rate, r.drops, r.tapDropped, r.rejected)
}

// CountRecords reads a trace once to know its size in records (for the
// progress bar); a damaged file counts what is before the damage.
func CountRecords(path string) uint64 {
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
