package control_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
)

// Example shows how the daemon wires the configuration, the log ring and
// the control server together (controltest.FakeDaemon stands in for the
// daemon's own Daemon implementation).
func Example() {
	cfg, err := config.Load("") // the daemon's --config; "" = defaults
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer cfg.Apply()() // max_memory_mb, thread_pool_size

	// Every record the daemon logs is also kept for `ainka-cli logs`.
	ring := control.NewLogRing(0)
	out, closeLog, err := cfg.Daemon.OpenLogOutput(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer closeLog()
	log := slog.New(ring.Handler(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: cfg.Daemon.SlogLevel()})))
	slog.SetDefault(log)

	srv, err := control.NewServer(controltest.NewFakeDaemon(), control.Options{
		SocketPath: os.TempDir() + "/ainka-example.sock", // cfg.Daemon.SocketPath in the daemon
		Group:      cfg.Daemon.SocketGroup,
		Logs:       ring,
		Logger:     log,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	// Listen before starting the pipeline: a daemon that cannot be
	// controlled should not start.
	if err := srv.Listen(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go srv.Serve(ctx) // returns when ctx ends; removes the socket

	st, err := control.NewClient(srv.SocketPath()).Status(ctx)
	fmt.Println(st.State, err)
	// Output: optimizing <nil>
}
