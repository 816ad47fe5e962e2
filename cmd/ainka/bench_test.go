package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/decode/decodetest"
	"github.com/ainka/ainka/stages/source"
	"github.com/ainka/ainka/trace"
)

// benchTrace is the trace the replay benchmarks read: BENCH_TRACE if set,
// else a synthetic mix (100 k events/s of event time).
func benchTrace(b *testing.B) string {
	if p := os.Getenv("BENCH_TRACE"); p != "" {
		return p
	}
	path := filepath.Join(b.TempDir(), "mixed.trace")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w, err := trace.NewWriter(f, trace.Header{SchemaVersion: decode.SchemaVersion, CollectionIntervalMs: 100})
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range decodetest.Mixed(200_000, 2, 1e12, 10_000) {
		if err := w.WriteRecord(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkReplay runs a trace through every wired stage, as `ainka
// replay` does, and reports events/s; ns/op is per event.
func BenchmarkReplay(b *testing.B) {
	path := benchTrace(b)
	records := daemon.CountRecords(path)
	if records == 0 {
		b.Fatalf("no records in %s (BENCH_TRACE is relative to cmd/ainka)", path)
	}
	repeat := max(1, b.N/int(records))
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	src, err := source.NewReplay(path, source.ReplayConfig{Repeat: repeat, BatchRecords: daemon.ReplayBatch})
	if err != nil {
		b.Fatal(err)
	}
	c, err := daemon.Build(src, daemon.ChainOptions{Settings: settings.FromHeader(src.Header()), QueueLen: 8})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Pipeline.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	n := c.Decoder.Decoded()
	if n != records*uint64(repeat) {
		b.Fatalf("decoded %d of %d", n, records*uint64(repeat))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
	// On a shared machine the wall clock includes time this process waited
	// for a CPU; CPU time (user+system, all threads) is what it cost.
	b.ReportMetric(float64(n)/cpu.Seconds(), "events/cpu-s")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
