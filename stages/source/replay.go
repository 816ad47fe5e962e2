package source

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/trace"
)

// ErrBadReplay is returned for a replay configuration that makes no sense.
var ErrBadReplay = errors.New("bad replay options")

// ReplayConfig configures a replay.
type ReplayConfig struct {
	// Speed paces records by event time: 1 = as captured, 2 = twice as
	// fast; 0 = as fast as the pipeline takes them.
	Speed float64
	// Repeat replays the file this many times (0 = once). Each repeat
	// shifts ts_ns past the previous one's so event time keeps growing.
	Repeat int
	// BatchRecords is the most records per batch; 0 = 4096.
	BatchRecords int
}

// Replay is the source that reads a trace file. It never drops: it sends
// with a blocking Send, so a replay is lossless and deterministic.
type Replay struct {
	path string
	cfg  ReplayConfig
	hdr  trace.Header

	records uint64
	stats   trace.Stats
	haveSt  bool
}

// NewReplay opens path and reads its header, so that a bad file fails here
// with the trace package's error (naming the byte offset) before any stage
// runs.
func NewReplay(path string, cfg ReplayConfig) (*Replay, error) {
	if cfg.Speed < 0 || cfg.Speed != cfg.Speed {
		return nil, fmt.Errorf("%w: speed %v (0 = as fast as possible)", ErrBadReplay, cfg.Speed)
	}
	if cfg.Repeat < 0 {
		return nil, fmt.Errorf("%w: repeat %d", ErrBadReplay, cfg.Repeat)
	}
	if cfg.Repeat == 0 {
		cfg.Repeat = 1
	}
	if cfg.BatchRecords <= 0 {
		cfg.BatchRecords = DefaultBatchRecords
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open trace: %w", err)
	}
	defer f.Close()
	tr, err := trace.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read trace %s: %w", path, err)
	}
	return &Replay{path: path, cfg: cfg, hdr: tr.Header()}, nil
}

// Header returns the trace's header.
func (r *Replay) Header() trace.Header { return r.hdr }

// Records returns how many records Run has sent.
func (r *Replay) Records() uint64 { return r.records }

// Stats returns the last kernel stats snapshot met in the file, if any.
func (r *Replay) Stats() (trace.Stats, bool) { return r.stats, r.haveSt }

// Run sends every record of the file (Repeat times) and returns nil at the
// end. A damaged file delivers everything before the damage, then returns
// the trace package's error naming the byte offset.
func (r *Replay) Run(ctx context.Context, out *pipeline.Emitter[[]byte]) error {
	p := replayPass{r: r, out: out, start: time.Now()}
	for rep := 0; rep < r.cfg.Repeat; rep++ {
		if rep > 0 {
			if !p.any {
				break // nothing timed to shift: an empty trace
			}
			p.offset = uint64(rep) * (p.maxTs - p.minTs + 1)
		}
		if err := p.file(ctx); err != nil {
			return err
		}
	}
	return nil
}

type replayPass struct {
	r      *Replay
	out    *pipeline.Emitter[[]byte]
	b      *pipeline.Batch[[]byte]
	start  time.Time
	offset uint64 // added to ts_ns on this repeat
	// Event-time span of the first pass, and its first timestamp (pacing).
	any          bool
	minTs, maxTs uint64
	firstTs      uint64
}

func (p *replayPass) file(ctx context.Context) error {
	f, err := os.Open(p.r.path)
	if err != nil {
		return fmt.Errorf("open trace: %w", err)
	}
	defer f.Close()
	tr, err := trace.NewReader(f)
	if err != nil {
		return fmt.Errorf("read trace %s: %w", p.r.path, err)
	}
	first := p.offset == 0
	for {
		typ, payload, err := tr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return p.send(ctx)
			}
			// Hand on everything before the damage, then report it.
			if serr := p.send(ctx); serr != nil {
				return serr
			}
			return fmt.Errorf("replay %s: %w", p.r.path, err)
		}
		if typ != trace.FrameRecord {
			if st, ok := tr.Stats(); ok {
				p.r.stats, p.r.haveSt = st, true
			}
			continue
		}
		var ts uint64
		timed := len(payload) >= 8
		if timed {
			ts = binary.LittleEndian.Uint64(payload)
			if first {
				if !p.any {
					p.minTs, p.maxTs, p.firstTs, p.any = ts, ts, ts, true
				}
				p.minTs, p.maxTs = min(p.minTs, ts), max(p.maxTs, ts)
			}
			ts += p.offset
			if p.r.cfg.Speed > 0 {
				if err := p.pace(ctx, ts); err != nil {
					return err
				}
			}
		}
		if err := p.add(ctx, payload, timed, ts); err != nil {
			return err
		}
	}
}

// pace waits until the wall clock reaches the record's place in the
// original timeline scaled by Speed, sending what is batched first.
func (p *replayPass) pace(ctx context.Context, ts uint64) error {
	if ts < p.firstTs {
		return nil // out of order across CPUs: already due
	}
	due := p.start.Add(time.Duration(float64(ts-p.firstTs) / p.r.cfg.Speed))
	wait := time.Until(due)
	if wait < time.Millisecond {
		return nil
	}
	if err := p.send(ctx); err != nil {
		return err
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *replayPass) add(ctx context.Context, rec []byte, timed bool, ts uint64) error {
	n := p.r.cfg.BatchRecords
	if p.b != nil && (len(p.b.Items) >= n || cap(p.b.Buf)-len(p.b.Buf) < len(rec)) {
		if err := p.send(ctx); err != nil {
			return err
		}
	}
	if p.b == nil {
		p.b = p.out.Batch()
		if want := n * maxRecord; cap(p.b.Buf) < max(want, len(rec)) {
			p.b.Buf = make([]byte, 0, max(want, len(rec)))
		}
	}
	b := p.b
	start := len(b.Buf)
	b.Buf = append(b.Buf, rec...) // fits: checked above, so Items stay valid
	item := b.Buf[start:len(b.Buf):len(b.Buf)]
	if timed && p.offset != 0 {
		binary.LittleEndian.PutUint64(item, ts)
	}
	b.Items = append(b.Items, item)
	return nil
}

func (p *replayPass) send(ctx context.Context) error {
	b := p.b
	if b == nil {
		return nil
	}
	p.b = nil
	n := uint64(len(b.Items))
	if n == 0 {
		p.out.Release(b)
		return nil
	}
	if err := p.out.Send(ctx, b); err != nil {
		return err
	}
	p.r.records += n
	return nil
}
