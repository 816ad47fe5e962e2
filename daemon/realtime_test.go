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

// latency_mode turns on the real-time thread's kernel wait; the spin is
// realtime_wake_spin_us's.
func TestLatencyModeCapture(t *testing.T) {
	in := source.Config{HostInterval: 10 * time.Millisecond}
	got := realTimeCapture(config.Daemon{LatencyMode: true}, in)
	if !got.KernelWait || got.WakeSpin != 0 {
		t.Errorf("latency_mode: KernelWait %v, WakeSpin %v; want the kernel wait, no spin", got.KernelWait, got.WakeSpin)
	}
	got = realTimeCapture(config.Daemon{LatencyMode: true, RealTimeWakeSpinUS: 500}, in)
	if !got.KernelWait || got.WakeSpin != 500*time.Microsecond {
		t.Errorf("latency_mode, spin 500 µs: KernelWait %v, WakeSpin %v", got.KernelWait, got.WakeSpin)
	}
}
