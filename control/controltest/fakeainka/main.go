// Command fakeainka stands in for the ainka daemon in the tests of the
// installation scripts (scripts/integration_test.sh, scripts/demo.sh): it
// has the daemon's command line for run and replay, loads the configuration
// with package config, and serves controltest.FakeDaemon on the configured
// control socket. It is the contract the real daemon's command line meets.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "run" && os.Args[1] != "replay") {
		fmt.Fprintln(os.Stderr, "usage: fakeainka run|replay [FILE] [--config F] [--dry-run]")
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var trace string
	if cmd == "replay" {
		if len(args) == 0 {
			fmt.Fprintln(os.Stderr, "ainka replay: missing trace file")
			os.Exit(2)
		}
		trace, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	dry := fs.Bool("dry-run", false, "validate and print the configuration")
	socket := fs.String("socket", "", "control socket")
	fs.Duration("duration", 0, "stop after")
	fs.Float64("speed", 0, "replay pacing")
	fs.Int("repeat", 1, "replay count")
	if err := fs.Parse(args); err != nil {
		os.Exit(2)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ainka %s: %v\n", cmd, err)
		os.Exit(2)
	}
	if *socket != "" {
		cfg.Daemon.SocketPath = *socket
	}
	if *dry {
		if err := cfg.WriteTOML(os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "ainka %s: %v\n", cmd, err)
			os.Exit(1)
		}
		return
	}
	if trace != "" {
		if _, err := os.Stat(trace); err != nil {
			fmt.Fprintf(os.Stderr, "ainka replay: %v\n", err)
			os.Exit(1)
		}
	}
	if err := serve(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "ainka %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

func serve(cfg *config.Config) error {
	defer cfg.Apply()()
	removePID, err := config.WritePIDFile(cfg.Daemon.PIDFile)
	if err != nil {
		return err
	}
	defer removePID()
	ring := control.NewLogRing(0)
	out, closeLog, err := cfg.Daemon.OpenLogOutput(os.Stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	log := slog.New(ring.Handler(slog.NewTextHandler(out, &slog.HandlerOptions{Level: cfg.Daemon.SlogLevel()})))
	srv, err := control.NewServer(controltest.NewFakeDaemon(), control.Options{
		SocketPath: cfg.Daemon.SocketPath, Group: cfg.Daemon.SocketGroup, Logs: ring, Logger: log,
	})
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("fake daemon started", "socket", srv.SocketPath())
	go func() {
		for t := time.NewTicker(200 * time.Millisecond); ctx.Err() == nil; <-t.C {
			log.Debug("window", "features", 26)
		}
	}()
	return srv.Serve(ctx)
}
