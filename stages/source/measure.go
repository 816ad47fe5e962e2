package source

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/pipeline"
	"golang.org/x/sys/unix"
)

// ThroughputOptions configure MeasureThroughput.
type ThroughputOptions struct {
	// Duration of the measurement; 0 = 10 s.
	Duration time.Duration
	// Workers is the number of load processes (`dd bs=1` between
	// /dev/zero and /dev/null: two syscalls per byte); 0 = 1.
	Workers int
	// RingBytes of events_map; 0 = 16 MiB.
	RingBytes int
	// BatchRecords per pipeline batch; 0 = default.
	BatchRecords int
}

// Throughput is what MeasureThroughput saw.
type Throughput struct {
	Elapsed   time.Duration
	Delivered uint64  // syscall records that reached the stage after the source
	PerSecond float64 // Delivered / Elapsed
	Emitted   uint64  // stats_map emitted (syscall)
	Lost      uint64  // ring full
	Dropped   uint64  // pipeline full
	// CPUPercent is this process's CPU time (user+system) over Elapsed, in
	// percent of one core: the source, its reader and a counting stage.
	CPUPercent float64
	// Allocs is the heap allocations of the whole process during the run
	// (runtime.MemStats.Mallocs): pipeline start-up, batches the free
	// lists did not have yet, metrics, and whatever allocates per record.
	// AllocsPerRecord = Allocs / Delivered shows the last: ~0 when the
	// live path allocates nothing per event.
	Allocs          uint64
	AllocsPerRecord float64
}

func (t Throughput) String() string {
	return fmt.Sprintf("%d syscall records in %v: %.0f/s, lost %d, dropped %d, daemon CPU %.1f%% of a core, %d allocations (%.6f per record)",
		t.Delivered, t.Elapsed.Round(time.Millisecond), t.PerSecond, t.Lost, t.Dropped, t.CPUPercent, t.Allocs, t.AllocsPerRecord)
}

type countStage struct{ n atomic.Uint64 }

func (c *countStage) Process(in [][]byte, out []struct{}) []struct{} {
	c.n.Add(uint64(len(in)))
	return out
}

// MeasureThroughput runs the live source on every syscall of the machine
// (except its own) while Workers dd processes hammer read/write, and
// reports the sustained record rate, losses and the CPU it took. It needs
// root and dd (coreutils).
func MeasureThroughput(ctx context.Context, opts ThroughputOptions) (Throughput, error) {
	if opts.Duration <= 0 {
		opts.Duration = 10 * time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	l, err := NewLive(Config{
		Policy:    Policy{Kinds: []record.Kind{record.KindSyscall}},
		RingBytes: opts.RingBytes, BatchRecords: opts.BatchRecords, HostInterval: -1,
	})
	if err != nil {
		return Throughput{}, err
	}
	var workers []*exec.Cmd
	defer func() {
		for _, w := range workers {
			w.Process.Kill()
			w.Wait()
		}
	}()
	for range opts.Workers {
		w := exec.CommandContext(ctx, "dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=100000000000")
		if err := w.Start(); err != nil {
			l.Close()
			return Throughput{}, fmt.Errorf("start load: %w", err)
		}
		workers = append(workers, w)
	}

	p := pipeline.New(pipeline.Options{})
	src := pipeline.AddSource[[]byte](p, "source", l)
	cs := &countStage{}
	pipeline.AddStage[[]byte, struct{}](p, "count", src, cs)
	runCtx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	var ru0, ru1 unix.Rusage
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	unix.Getrusage(unix.RUSAGE_SELF, &ru0)
	start := time.Now()
	err = p.Run(runCtx)
	elapsed := time.Since(start)
	unix.Getrusage(unix.RUSAGE_SELF, &ru1)
	runtime.ReadMemStats(&ms1)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return Throughput{}, err
	}
	cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
	s := l.Stats()[record.KindSyscall]
	t := Throughput{
		Elapsed: elapsed, Delivered: cs.n.Load(), Emitted: s.Emitted, Lost: s.Lost, Dropped: s.Dropped,
		CPUPercent: 100 * cpu.Seconds() / elapsed.Seconds(),
	}
	t.PerSecond = float64(t.Delivered) / elapsed.Seconds()
	t.Allocs = ms1.Mallocs - ms0.Mallocs
	if t.Delivered > 0 {
		t.AllocsPerRecord = float64(t.Allocs) / float64(t.Delivered)
	}
	return t, nil
}
