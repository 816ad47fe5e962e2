package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/trace/traceinfo"
)

func init() {
	register(command{name: "trace", summary: "inspect trace files (trace info FILE)", run: runTrace})
}

func runTrace(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "info" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(stdout, "usage: ainka trace info FILE")
			return exitOK
		}
		return exitCode(stderr, "trace", daemon.Usagef("want a subcommand: ainka trace info FILE"))
	}
	fs := flag.NewFlagSet("trace info", flag.ContinueOnError)
	pos, err := parseArgs(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		printHelp(stdout, fs, "ainka trace info FILE")
		return exitOK
	}
	if err == nil && len(pos) != 1 {
		err = daemon.Usagef("want exactly one trace FILE, got %d arguments", len(pos))
	}
	if err == nil {
		err = traceinfo.Write(stdout, pos[0])
	}
	return exitCode(stderr, "trace info", err)
}
