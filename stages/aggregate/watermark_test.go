package aggregate

import (
	"testing"
	"time"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/decode/decodetest"
	"github.com/ainka/ainka/trace"
)

// TestHostWatermark: with HostWatermark a host sample closes the windows
// that ended before it at once (the live source drains the ring before it
// stamps one); without it the same input waits for the lateness, as a
// replay does. A record older than a window the watermark closed counts
// as late in the next one.
func TestHostWatermark(t *testing.T) {
	base := uint64(10) * 1000 * ms
	evs := events(t,
		decodetest.Syscall(base+10*ms, 0, 1, "a", 1, 0, 1),
		decodetest.Syscall(base+99*ms, 0, 1, "a", 1, 0, 1),
		decodetest.HostSample(base+100*ms+100_000, record.HostSample{}), // 0.1 ms past the end
		decodetest.Syscall(base+99*ms+900_000, 0, 1, "a", 1, 0, 1),      // reserved before the stamp, read after
		decodetest.Syscall(base+101*ms, 0, 1, "a", 1, 0, 1),
	)
	cfg := Config{Lateness: 2 * time.Millisecond}
	a, _ := New(cfg)
	if ws := a.Process(evs, nil); len(ws) != 0 {
		t.Fatalf("without watermarks %d windows closed before end + lateness", len(ws))
	}
	ws := a.Flush(nil)
	if len(ws) != 2 || ws[0].Events != 3 || ws[0].Late != 0 {
		t.Fatalf("without watermarks: %d windows, first %d events %d late", len(ws), ws[0].Events, ws[0].Late)
	}

	cfg.HostWatermark = true
	a, _ = New(cfg)
	for i := range evs {
		ws := a.Process(evs[i:i+1], nil)
		if want := i == 2; (len(ws) == 1) != want || len(ws) > 1 {
			t.Fatalf("event %d closed %d windows; want the host sample to close one", i, len(ws))
		}
		if i == 2 && (ws[0].Events != 2 || ws[0].EndNs != base+100*ms || ws[0].HaveHost) {
			t.Fatalf("window closed by the watermark: end %d, %d events, host %v", ws[0].EndNs-base, ws[0].Events, ws[0].HaveHost)
		}
	}
	ws = a.Flush(nil)
	if len(ws) != 1 || ws[0].Events != 3 || ws[0].Late != 1 || !ws[0].HaveHost {
		t.Fatalf("after the watermark: %d windows, %d events, %d late", len(ws), ws[0].Events, ws[0].Late)
	}
	// An older host sample (a replayed one out of order) moves nothing back.
	a, _ = New(cfg)
	a.Process(events(t, decodetest.HostSample(base+250*ms, record.HostSample{})), nil)
	if ws := a.Process(events(t, decodetest.HostSample(base+150*ms, record.HostSample{}), decodetest.Syscall(base+251*ms, 0, 1, "a", 1, 0, 1)), nil); len(ws) != 0 {
		t.Fatalf("an older watermark closed %d windows", len(ws))
	}
}

// TestConfigFromWatermark: live settings (a host sample phase) turn
// watermarks on, a trace's settings leave them off.
func TestConfigFromWatermark(t *testing.T) {
	if c := ConfigFrom(settings.Live(100 * time.Millisecond)); !c.HostWatermark {
		t.Error("live settings without host watermarks")
	}
	if c := ConfigFrom(settings.FromHeader(trace.Header{CollectionIntervalMs: 100})); c.HostWatermark {
		t.Error("replay settings with host watermarks")
	}
}
