package main

import (
	"context"
	"errors"
	"io"

	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/fleet/warm"
)

func init() {
	register(command{name: "model", summary: "the learned model: info, export to a bundle, import (merge) one from another host", run: runModel})
}

// runModel is `ainka model info|export|import` (package fleet/warm).
func runModel(args []string, stdout, stderr io.Writer) int {
	err := warm.Command(context.Background(), args, stdout)
	if errors.Is(err, warm.ErrUsage) {
		err = daemon.UsageError{Err: err}
	}
	return exitCode(stderr, "model", err)
}
