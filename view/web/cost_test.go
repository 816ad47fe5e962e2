package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
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
	"github.com/ainka/ainka/view"
	"github.com/ainka/ainka/view/web"
)

// BenchmarkViewCost is what watching costs the daemon at 1 M events/s: a
// trace of 100 k events/s of event time replayed ten times faster than
// captured, without the view (no observers) and with everything a person
// can watch: the recorder's observers and its ticks, the terminal view's
// render every second, and the dashboard with 5 browsers on its stream.
// The arms alternate, 5 s each, so that both see the same machine; it
// reports the CPU time per event of each and their ratio (on/off).
//
//	go test ./view/web -run '^$' -bench ViewCost -benchtime 30000000x
//
// AINKA_COST_SAME=1 runs both arms without the view: the ratio is then
// the noise floor of this machine (a shared one moves it by several %).
func BenchmarkViewCost(b *testing.B) {
	path := mixedTrace(b)
	const per = 5_000_000 // events per run: 25 passes of the trace, 5 s at 1 M/s
	var cpu [2]time.Duration
	var events [2]uint64
	runs := max(1, b.N/per/2)
	b.ResetTimer()
	for range runs {
		for arm := range 2 {
			c0 := cpuTime()
			events[arm] += replayOnce(b, path, per/200_000, arm == 1 && os.Getenv("AINKA_COST_SAME") == "")
			cpu[arm] += cpuTime() - c0
		}
	}
	b.StopTimer()
	off := float64(cpu[0]) / float64(events[0])
	on := float64(cpu[1]) / float64(events[1])
	b.ReportMetric(off, "cpu-ns/event-off")
	b.ReportMetric(on, "cpu-ns/event-on")
	b.ReportMetric(on/off, "on/off")
	b.ReportMetric(float64(events[0])/cpu[0].Seconds(), "events/cpu-s-off")
}

// replayOnce replays path repeat times and returns the events decoded.
func replayOnce(b *testing.B, path string, repeat int, watch bool) uint64 {
	src, err := source.NewReplay(path, source.ReplayConfig{Repeat: repeat, Speed: 10, BatchRecords: daemon.ReplayBatch})
	if err != nil {
		b.Fatal(err)
	}
	c, err := daemon.Build(src, daemon.ChainOptions{Settings: settings.FromHeader(src.Header()), QueueLen: 8, NoView: !watch})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if watch {
		s, err := web.Listen(web.Options{Addr: "127.0.0.1:0", Snapshot: c.View.Snapshot, Timeline: c.View.Timeline})
		if err != nil {
			b.Fatal(err)
		}
		go s.Serve(ctx)
		go c.View.Run(ctx, time.Second)
		go func() { // the terminal view: a snapshot drawn every second
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					io.WriteString(io.Discard, view.Render(c.View.Snapshot(), 120, 50, view.Plain))
				}
			}
		}()
		for range 5 { // browsers elsewhere: their parsing is not the daemon's
			go func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Addr()+"/api/events", nil)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		}
	}
	if err := c.Pipeline.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c.Decoder.Decoded()
}

// mixedTrace writes 200 000 records of a realistic mix (2 s of event time
// at 100 k events/s) as a trace.
func mixedTrace(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "mixed.trace")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
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
	return path
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWatchSecond is the work watching adds per second, whatever the
// event rate: a snapshot of a daemon that has replayed 70 s of event
// time (every chart a full minute), the
// terminal view drawn from it and the dashboard's update encoded (once for
// every viewer). Divided by the daemon's CPU time per second it is the
// view's share of the daemon's CPU, free of the noise of a whole run.
func BenchmarkWatchSecond(b *testing.B) {
	path := mixedTrace(b)
	src, err := source.NewReplay(path, source.ReplayConfig{Repeat: 35, BatchRecords: daemon.ReplayBatch})
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
	c.View.Tick(time.Now())
	b.ReportAllocs()
	var size int
	c0 := cpuTime() // the pipeline has ended: this goroutine and its GC
	for b.Loop() {
		c.View.Tick(time.Now())
		s := c.View.Snapshot()
		io.WriteString(io.Discard, view.Render(s, 120, 50, view.Plain))
		msg, err := json.Marshal(struct {
			S view.Snapshot `json:"snapshot"`
			E []view.Event  `json:"events"`
		}{c.View.Snapshot(), c.View.Timeline(0)})
		if err != nil {
			b.Fatal(err)
		}
		size = len(msg)
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(size), "update-bytes")
}
