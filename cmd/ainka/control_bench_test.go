package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ainka/ainka/internal/testenv"

	"github.com/ainka/ainka/control"
)

// BenchmarkControlUnderLoad measures how fast the control API answers
// while the live pipeline is saturated: one thread hammers
// getppid (every call a syscall record), the daemon captures everything,
// and status requests are timed. It reports the p50/p99/max latency of
// Status and the events the daemon took meanwhile. Root only.
//
//	go test -run '^$' -bench ControlUnderLoad -benchtime 1x ./cmd/ainka
func BenchmarkControlUnderLoad(b *testing.B) {
	testenv.RequireRoot(b, "load the eBPF programs")
	dir := b.TempDir()
	sock := filepath.Join(dir, "ainka.sock")
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`[daemon]
pid_file = ""
socket_path = %q
dry_run = true
[ml]
model_path = ""
[policy]
policy_file = ""
`, sock)), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() { done <- dispatch([]string{"run", "--config", cfg, "--duration", "10m"}, &out, &errb) }()
	select {
	case code := <-done:
		b.Fatalf("daemon exited %d: %s", code, errb.String())
	case <-time.After(2 * time.Second):
	}
	c := control.NewClient(sock)
	for i := 0; ; i++ {
		if _, err := c.Status(ctx); err == nil {
			break
		}
		if i > 600 {
			b.Fatalf("daemon not serving: %s %s", out.String(), errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var stop atomic.Bool
	var load sync.WaitGroup
	// One load thread: the pipeline saturated, not the CPU starved by
	// the load generator (this is a 2-CPU machine).
	for range 1 {
		load.Add(1)
		go func() {
			defer load.Done()
			runtime.LockOSThread()
			for !stop.Load() {
				syscall.Getppid()
			}
		}()
	}
	time.Sleep(time.Second) // let the pipeline reach its steady state
	// One daemon per benchmark run: a fixed number of timed requests,
	// whatever b.N (run it with -benchtime 1x).
	const requests = 300
	lat := make([]time.Duration, 0, requests)
	b.ResetTimer()
	for range requests {
		t0 := time.Now()
		if _, err := c.Status(ctx); err != nil {
			select {
			case code := <-done:
				b.Fatalf("daemon exited %d under load: %s", code, errb.String())
			default:
				b.Fatalf("%v (daemon still running: %s)", err, errb.String())
			}
		}
		lat = append(lat, time.Since(t0))
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	st, _ := c.Status(ctx)
	stop.Store(true)
	load.Wait()
	syscall.Kill(os.Getpid(), syscall.SIGTERM) // the daemon's own shutdown path
	if code := <-done; code != exitOK {
		b.Fatalf("daemon exit %d: %s", code, errb.String())
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	if len(st.Stages) > 1 {
		b.ReportMetric(float64(st.Stages[1].Out), "events-decoded")
		b.ReportMetric(float64(st.Stages[0].Dropped), "source-dropped")
	}
}
