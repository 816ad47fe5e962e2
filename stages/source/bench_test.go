package source

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/pipeline"
	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

type discard struct{}

func (discard) Process(in [][]byte, out []struct{}) []struct{} { return out }

// runDiscard runs l into a pipeline that discards, until the returned stop
// is called.
func runDiscard(tb testing.TB, l *Live) (stop func()) {
	p := pipeline.New(pipeline.Options{})
	src := pipeline.AddSource[[]byte](p, "source", l)
	pipeline.AddStage[[]byte, struct{}](p, "discard", src, discard{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkGetpid measures the probe's cost per syscall: a getpid loop
// with nothing attached, then with the syscall programs attached and the
// event filtered (by pid at entry, or by latency at exit), then emitted
// into the ring and read by the live source. Compare ns/op of the
// sub-benchmarks; docs/bpf.md has the figures.
func BenchmarkGetpid(b *testing.B) {
	loop := func(b *testing.B) {
		for b.Loop() {
			unix.Getpid()
		}
	}
	b.Run("baseline", loop)
	self := uint32(os.Getpid())
	cases := []struct {
		name string
		pol  Policy
	}{
		{"filtered_pid", Policy{Pid: 1}},
		{"filtered_latency", Policy{Pid: self, IncludeSelf: true, MinLatency: map[record.Kind]time.Duration{record.KindSyscall: time.Second}}},
		{"emitted", Policy{Pid: self, IncludeSelf: true}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			needKernel(b)
			c.pol.Kinds = []record.Kind{record.KindSyscall}
			l, err := NewLive(Config{Policy: c.pol, HostInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			stop := runDiscard(b, l)
			loop(b)
			stop()
			s := l.Stats()[record.KindSyscall]
			if s.Emitted > 0 {
				b.ReportMetric(float64(s.Lost)/float64(s.Emitted), "lost/emitted")
			}
		})
	}
}

// BenchmarkReplay measures the replay source alone (no stages after it).
func BenchmarkReplay(b *testing.B) {
	const n = 100000
	path := writeTrace(&testing.T{}, n, 1, 1)
	b.ResetTimer()
	for b.Loop() {
		r, err := NewReplay(path, ReplayConfig{})
		if err != nil {
			b.Fatal(err)
		}
		p := pipeline.New(pipeline.Options{})
		src := pipeline.AddSource[[]byte](p, "source", r)
		pipeline.AddStage[[]byte, struct{}](p, "discard", src, discard{})
		if err := p.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkLiveThroughput runs MeasureThroughput for 2 s per iteration
// with one and two dd workers and reports records/s, losses and the
// source's CPU.
func BenchmarkLiveThroughput(b *testing.B) {
	needKernel(b)
	if _, err := exec.LookPath("dd"); err != nil {
		b.Skipf("no dd for the load: %v", err)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var last Throughput
			for range b.N {
				t, err := MeasureThroughput(context.Background(), ThroughputOptions{Duration: 2 * time.Second, Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				last = t
			}
			b.ReportMetric(last.PerSecond, "records/s")
			b.ReportMetric(float64(last.Lost+last.Dropped), "lost+dropped")
			b.ReportMetric(last.CPUPercent, "cpu%")
			b.ReportMetric(last.AllocsPerRecord, "allocs/record")
			b.Log(last)
		})
	}
}

// getpidNs times a getpid loop for about d and returns ns per call.
func getpidNs(d time.Duration) float64 {
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		getpids(1000)
		n += 1000
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// BenchmarkGetpidOverhead measures the probe's cost per syscall in one run,
// robustly on a shared machine: rounds alternate a bare getpid loop with
// loops under the attached probe (event filtered by pid at entry, filtered
// by latency at exit, emitted and read), and the minimum of each over the
// rounds is reported, with the deltas to the bare loop.
func BenchmarkGetpidOverhead(b *testing.B) {
	needKernel(b)
	self := uint32(os.Getpid())
	const rounds, slice = 5, 100 * time.Millisecond
	cases := []struct {
		name string
		pol  Policy
	}{
		{"filtered-pid", Policy{Pid: 1}},
		{"filtered-latency", Policy{Pid: self, IncludeSelf: true, MinLatency: map[record.Kind]time.Duration{record.KindSyscall: time.Second}}},
		{"emitted", Policy{Pid: self, IncludeSelf: true}},
	}
	for i := range cases {
		cases[i].pol.Kinds = []record.Kind{record.KindSyscall}
	}
	for range b.N {
		base := 1e18
		best := make([]float64, len(cases))
		for i := range best {
			best[i] = 1e18
		}
		var lost uint64
		for range rounds {
			base = min(base, getpidNs(slice))
			l, err := NewLive(Config{Policy: cases[0].pol, HostInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			stop := runDiscard(b, l)
			for i, c := range cases {
				if err := l.SetPolicy(c.pol); err != nil {
					b.Fatal(err)
				}
				best[i] = min(best[i], getpidNs(slice))
			}
			stop()
			lost += l.Stats()[record.KindSyscall].Lost
		}
		b.ReportMetric(base, "base-ns")
		for i, c := range cases {
			b.ReportMetric(best[i], c.name+"-ns")
			b.ReportMetric(best[i]-base, c.name+"-delta-ns")
		}
		b.ReportMetric(float64(lost), "lost")
	}
}

// BenchmarkProgramCost reports the run time of the syscall programs
// themselves, per getpid, from the kernel's BPF run-time statistics: the
// same cases as BenchmarkGetpidOverhead, but free of the scheduling noise
// of a shared machine (the dispatch to the programs is not included, and
// the statistics add two clock reads per run to each figure).
func BenchmarkProgramCost(b *testing.B) {
	needKernel(b)
	self := uint32(os.Getpid())
	cases := []struct {
		name string
		pol  Policy
	}{
		{"filtered-pid", Policy{Pid: 1}},
		{"filtered-latency", Policy{Pid: self, IncludeSelf: true, MinLatency: map[record.Kind]time.Duration{record.KindSyscall: time.Second}}},
		{"emitted", Policy{Pid: self, IncludeSelf: true}},
	}
	for i := range cases {
		cases[i].pol.Kinds = []record.Kind{record.KindSyscall}
	}
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		b.Skipf("BPF run-time statistics unavailable: %v", err)
	}
	defer stats.Close()
	const calls = 200000
	for range b.N {
		l, err := NewLive(Config{Policy: cases[0].pol, HostInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		stop := runDiscard(b, l)
		for _, c := range cases {
			if err := l.SetPolicy(c.pol); err != nil {
				b.Fatal(err)
			}
			before, err := l.probe.ProgramStats()
			if err != nil {
				b.Fatal(err)
			}
			getpids(calls)
			after, err := l.probe.ProgramStats()
			if err != nil {
				b.Fatal(err)
			}
			var total float64
			for _, prog := range []string{"ainka_sys_enter", "ainka_sys_exit"} {
				ns := float64(after[prog].Runtime-before[prog].Runtime) / float64(after[prog].RunCount-before[prog].RunCount)
				b.ReportMetric(ns, c.name+"-"+strings.TrimPrefix(prog, "ainka_")+"-ns")
				total += ns
			}
			b.ReportMetric(total, c.name+"-ns")
			// Per context switch, not per getpid: parks the enter time of
			// a task switched out mid-syscall.
			if sw := after["ainka_sys_switch"].RunCount - before["ainka_sys_switch"].RunCount; sw > 0 {
				b.ReportMetric(float64(after["ainka_sys_switch"].Runtime-before["ainka_sys_switch"].Runtime)/float64(sw), c.name+"-sys_switch-ns/switch")
			}
		}
		stop()
	}
}
