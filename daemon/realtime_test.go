package daemon

import (
	"testing"
	"time"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/stages/source"
)

// The real-time thread waits in the kernel, with the configured spin; the
// default pipeline keeps Go's poller (ring.go says what a thread blocked
// in a system call costs there).
func TestRealTimeCapture(t *testing.T) {
	in := source.Config{HostInterval: 10 * time.Millisecond}
	got := realTimeCapture(config.Daemon{RealTimePriority: 10, RealTimeWakeSpinUS: 200}, in)
	if !got.KernelWait || got.WakeSpin != 200*time.Microsecond || got.HostInterval != in.HostInterval {
		t.Errorf("realtime_priority 10, spin 200 µs: KernelWait %v, WakeSpin %v, interval %v", got.KernelWait, got.WakeSpin, got.HostInterval)
	}
	if got := realTimeCapture(config.Daemon{}, in); got.KernelWait || got.WakeSpin != 0 {
		t.Errorf("no realtime_priority: KernelWait %v, WakeSpin %v; want Go's poller, no spin", got.KernelWait, got.WakeSpin)
	}
}
