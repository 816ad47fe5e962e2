package web_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/daemon"
)

// busyPolicy fires on every saturated second of the cpu trace, so that the
// replay makes decisions for the dashboard to show.
const busyPolicy = `[[policy]]
name = "busy"
condition = "cpu_busy_pct > 50"
action = "sysctl vm.swappiness += 1"
cooldown = "1s"
`

// startReplay runs a real daemon replaying testdata/traces/cpu.trace at
// the captured pace, with the dashboard on a free loopback port, and
// returns the dashboard's base URL. The daemon stops when the test ends.
func startReplay(t *testing.T) string {
	t.Helper()
	return startReplayOf(t, daemon.ReplayOptions{Path: "../../testdata/traces/cpu.trace", Speed: 1, Repeat: 20, Hold: true})
}

// startReplayOf is startReplay of any trace at any pace.
func startReplayOf(t *testing.T, ro daemon.ReplayOptions) string {
	t.Helper()
	pol := filepath.Join(t.TempDir(), "busy.toml")
	if err := os.WriteFile(pol, []byte(busyPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Policy.PolicyFile, cfg.ML.ModelPath, cfg.Tuners.ModelPath, cfg.Daemon.SocketPath = "", "", "", ""
	addr := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	o := daemon.Options{Config: cfg, PolicyFile: pol, UIAddr: "127.0.0.1:0", Stdout: io.Discard, Stderr: io.Discard,
		Extend: func(c *daemon.Chain, s *daemon.Services) error {
			addr <- s.UIAddr()
			s.Go("view", func(ctx context.Context) error { c.View.Run(ctx, time.Second); return nil })
			return nil
		}}
	go func() {
		done <- daemon.Replay(ctx, o, ro)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("replay: %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("replay ended before serving: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the dashboard did not start in 30 s")
	}
	return ""
}
