// Command ainka is the AINKA daemon and its offline tools: it runs the
// pipeline live or on a recorded trace, records traces, and runs the
// learners on CSV series.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/ainka/ainka/daemon"
	_ "github.com/ainka/ainka/internal/earlysig" // SIGHUP ignored from the first microseconds, before the slow inits
)

// Exit codes, documented in README.md.
const (
	exitOK       = 0
	exitFailure  = 1 // the command ran and failed
	exitUsage    = 2 // bad flags, arguments or configuration
	exitNotReady = 3 // the host cannot run this (not root, no BTF, ...)
)

// command is one subcommand. Each lives in its own file and registers itself
// in init, so that parts of the program can be added without touching main.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("ainka: duplicate command " + c.name)
	}
	commands[c.name] = c
}

// exitCode maps an error to the documented exit code and prints it as one
// line, never a stack trace.
func exitCode(stderr io.Writer, name string, err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "ainka %s: %v\n", name, err)
	if errors.Is(err, daemon.ErrUsage) {
		return exitUsage
	}
	if errors.Is(err, daemon.ErrNotReady) {
		return exitNotReady
	}
	return exitFailure
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ainka COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'ainka COMMAND -h' for a command's flags.")
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ainka: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}
