package daemon

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/stages/decode/decodetest"
)

// TestFailingServiceStopsDaemon: a service that fails stops the running
// pipeline at once, and the daemon returns the service's error by name.
func TestFailingServiceStopsDaemon(t *testing.T) {
	c, err := Build(untilCancelled(), ChainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc := socketServices(t, c)
	boom := errors.New("boom")
	svc.Go("failing service", func(ctx context.Context) error {
		time.Sleep(50 * time.Millisecond)
		return boom
	})
	wantServiceError(t, boom, func() error { return svc.Run(context.Background(), c.Pipeline.Run) })
}

// wantServiceError runs a daemon and wants it to stop, within seconds, with
// the failing service's error by name.
func wantServiceError(t *testing.T, boom error, run func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- run() }()
	select {
	case err := <-done:
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "failing service: boom") {
			t.Fatalf("daemon returned %v, want the service's error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a failed service did not stop the daemon")
	}
}

// TestPipelineEndStopsServices: when the input ends, the services (here
// the real control socket) stop and nothing is reported.
func TestPipelineEndStopsServices(t *testing.T) {
	c, err := Build(records(decodetest.Mixed(100, 1, 1e9, 10_000)), ChainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc := socketServices(t, c)
	done := make(chan error, 1)
	go func() { done <- svc.Run(context.Background(), c.Pipeline.Run) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("services kept the daemon up after the input ended")
	}
}

// socketServices are the services of a replay daemon serving the real
// control socket.
func socketServices(t *testing.T, c *Chain) *Services {
	t.Helper()
	cfg := config.Default()
	cfg.Daemon.SocketPath = filepath.Join(t.TempDir(), "ainka.sock")
	svc, err := NewServices(NewController(c, "replay", true, nil, nil), cfg, nil, discard(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestFailingServiceStopsReplay: a replay daemon holding its control
// socket open (it would serve until SIGTERM) stops as soon as a service
// fails, and returns that service's error.
func TestFailingServiceStopsReplay(t *testing.T) {
	cfg := config.Default()
	cfg.Policy.PolicyFile, cfg.ML.ModelPath = "", ""
	cfg.Daemon.SocketPath = filepath.Join(t.TempDir(), "ainka.sock")
	var stderr strings.Builder
	boom := errors.New("boom")
	o := Options{Config: cfg, Stdout: io.Discard, Stderr: &stderr, Extend: func(c *Chain, s *Services) error {
		s.Go("failing service", func(ctx context.Context) error {
			// Fail once the input has been replayed: the daemon is
			// then only holding.
			// (Pipeline stats, not the decoder's counters: only they may
			// be read while the stages run.)
			for st := c.Pipeline.Stats(); st[0].Out == 0 || st[1].QueueLen > 0; st = c.Pipeline.Stats() {
				time.Sleep(10 * time.Millisecond)
			}
			return boom
		})
		return nil
	}}
	wantServiceError(t, boom, func() error {
		return Replay(context.Background(), o, ReplayOptions{Path: "../testdata/traces/cpu.trace", Repeat: 1, Hold: true})
	})
}

// TestFailedStartReleasesSocket: when a step after binding the control
// socket fails (an Extend hook, a bad metrics address), the daemon returns
// that error and leaves no socket file behind.
func TestFailedStartReleasesSocket(t *testing.T) {
	hookErr := errors.New("hook failed")
	for name, tc := range map[string]struct {
		o    Options
		want string
	}{
		"extend":       {Options{Extend: func(*Chain, *Services) error { return hookErr }}, "hook failed"},
		"metrics addr": {Options{MetricsAddr: "nonsense"}, `bad --metrics-addr "nonsense"`},
	} {
		cfg := config.Default()
		cfg.Policy.PolicyFile, cfg.ML.ModelPath = "", ""
		cfg.Daemon.SocketPath = filepath.Join(t.TempDir(), "ainka.sock")
		o := tc.o
		o.Config, o.Stdout, o.Stderr = cfg, io.Discard, io.Discard
		err := Replay(context.Background(), o, ReplayOptions{Path: "../testdata/traces/idle.trace", Repeat: 1})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
		if _, statErr := os.Lstat(cfg.Daemon.SocketPath); statErr == nil {
			t.Errorf("%s: control socket left behind after a failed start", name)
		}
	}
}
