package source

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/trace"
)

// writeTrace writes n syscall records, ts = base + i*step, with a stats
// frame in the middle, and returns the path.
func writeTrace(t *testing.T, n int, base, step uint64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.trace")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := trace.NewWriter(f, trace.Header{SchemaVersion: 1, Hostname: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rec := make([]byte, record.KindSyscall.RecordSize())
	binary.LittleEndian.PutUint16(rec[record.KindOffset:], uint16(record.KindSyscall))
	for i := range n {
		binary.LittleEndian.PutUint64(rec, base+uint64(i)*step)
		binary.LittleEndian.PutUint32(rec[40:], uint32(i))
		if err := w.WriteRecord(rec); err != nil {
			t.Fatal(err)
		}
		if i == n/2 {
			st := trace.Stats{TsNs: 1, N: 2}
			st.Kinds[1].Emitted = 42
			if err := w.WriteStats(&st); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// replayAll runs r into a collector that keeps every record.
func replayAll(t *testing.T, r *Replay) (*collector, error) {
	t.Helper()
	p := pipeline.New(pipeline.Options{QueueLen: 2})
	src := pipeline.AddSource[[]byte](p, "source", r)
	c := &collector{keep: func([]byte) bool { return true }}
	pipeline.AddStage[[]byte, struct{}](p, "collect", src, c)
	return c, p.Run(context.Background())
}

func TestReplayRepeatKeepsTimeMonotonic(t *testing.T) {
	const n = 1000
	path := writeTrace(t, n, 1e9, 1000)
	r, err := NewReplay(path, ReplayConfig{Repeat: 3, BatchRecords: 64})
	if err != nil {
		t.Fatal(err)
	}
	if r.Header().Hostname != "test" {
		t.Errorf("header %+v", r.Header())
	}
	c, err := replayAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.recs) != 3*n || r.Records() != 3*n {
		t.Fatalf("replayed %d records (Records %d), want %d", len(c.recs), r.Records(), 3*n)
	}
	prev := uint64(0)
	for i, rec := range c.recs {
		ts := binary.LittleEndian.Uint64(rec)
		if ts <= prev {
			t.Fatalf("record %d: ts %d after %d", i, ts, prev)
		}
		prev = ts
		if id := binary.LittleEndian.Uint32(rec[40:]); id != uint32(i%n) {
			t.Fatalf("record %d carries id %d: payload changed", i, id)
		}
	}
	if st, ok := r.Stats(); !ok || st.Kinds[1].Emitted != 42 {
		t.Errorf("stats snapshot %+v %v", st, ok)
	}
}

func TestReplayPacing(t *testing.T) {
	// 11 records over 100 ms of event time, replayed at speed 2: >= 50 ms.
	path := writeTrace(t, 11, 5e9, uint64(10*time.Millisecond))
	r, err := NewReplay(path, ReplayConfig{Speed: 2})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c, err := replayAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 45*time.Millisecond {
		t.Errorf("speed 2 replay of 100 ms took %v", el)
	}
	if len(c.recs) != 11 {
		t.Errorf("%d records", len(c.recs))
	}
}

func TestReplayDamagedFile(t *testing.T) {
	const n = 100
	path := writeTrace(t, n, 1, 1)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Cut into the middle of the last record frames: the end frame and a
	// bit more go missing.
	cut := filepath.Join(t.TempDir(), "cut.trace")
	if err := os.WriteFile(cut, data[:len(data)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := NewReplay(cut, ReplayConfig{Repeat: 2})
	if err != nil {
		t.Fatal(err)
	}
	c, err := replayAll(t, r)
	if !errors.Is(err, trace.ErrTruncated) {
		t.Fatalf("replay of a cut file: %v, want ErrTruncated", err)
	}
	var fe *trace.FormatError
	if !errors.As(err, &fe) || fe.Offset <= 0 {
		t.Errorf("error %v does not name a byte offset", err)
	}
	if len(c.recs) == 0 || len(c.recs) >= n {
		t.Errorf("delivered %d records before the damage, want 0 < n < %d", len(c.recs), n)
	}
}

func TestReplayBadInput(t *testing.T) {
	junk := filepath.Join(t.TempDir(), "junk")
	if err := os.WriteFile(junk, []byte("this is not a trace at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewReplay(junk, ReplayConfig{}); !errors.Is(err, trace.ErrNotTrace) {
		t.Errorf("random file: %v", err)
	}
	if _, err := NewReplay(filepath.Join(t.TempDir(), "missing"), ReplayConfig{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	path := writeTrace(t, 1, 1, 1)
	for _, cfg := range []ReplayConfig{{Speed: -1}, {Speed: math.NaN()}, {Repeat: -2}} {
		if _, err := NewReplay(path, cfg); !errors.Is(err, ErrBadReplay) {
			t.Errorf("NewReplay(%+v) = %v, want ErrBadReplay", cfg, err)
		}
	}
}

func TestReplayCancel(t *testing.T) {
	path := writeTrace(t, 100, 0, uint64(time.Second)) // 99 s of event time
	r, err := NewReplay(path, ReplayConfig{Speed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Options{})
	src := pipeline.AddSource[[]byte](p, "source", r)
	pipeline.AddStage[[]byte, struct{}](p, "collect", src, &collector{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Run(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled replay: %v", err)
	}
	if r.Records() >= 100 {
		t.Errorf("a cancelled 99 s replay sent all %d records", r.Records())
	}
}
