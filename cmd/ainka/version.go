package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/ainka/ainka/bpf"
	"github.com/ainka/ainka/buildinfo"
	"github.com/ainka/ainka/daemon"
)

func init() {
	register(command{name: "version", summary: "print the version, commit, Go toolchain and eBPF object hash", run: runVersion})
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print as JSON")
	pos, err := parseArgs(fs, args)
	if err == flag.ErrHelp {
		printHelp(stdout, fs, "ainka version [--json]")
		return exitOK
	}
	if err == nil && len(pos) != 0 {
		err = daemon.Usagef("unexpected argument %q (ainka version [--json])", pos[0])
	}
	if err != nil {
		return exitCode(stderr, "version", err)
	}
	info := buildinfo.Read(bpf.ObjectHash())
	if *asJSON {
		b, _ := json.MarshalIndent(info, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprint(stdout, info)
	return exitOK
}
