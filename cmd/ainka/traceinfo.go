package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/trace"
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
		err = traceInfo(pos[0], stdout)
	}
	return exitCode(stderr, "trace info", err)
}

// traceInfo prints the header, per-kind record counts and the last kernel
// stats snapshot. A damaged file prints what comes before the damage and
// returns the error.
func traceInfo(path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open trace: %w", err)
	}
	defer f.Close()
	r, err := trace.NewReader(f)
	if err != nil {
		return err
	}
	h := r.Header()
	var counts [decode.NumKinds]uint64
	var other, bytes uint64
	var minTs, maxTs uint64
	var readErr error
	for {
		rec, err := r.NextRecord()
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
		bytes += uint64(len(rec))
		if len(rec) < decode.HeaderSize {
			other++
			continue
		}
		k := decode.Kind(uint16(rec[20]) | uint16(rec[21])<<8)
		if k < decode.NumKinds {
			counts[k]++
		} else {
			other++
		}
		ts := uint64(0)
		for i := 7; i >= 0; i-- {
			ts = ts<<8 | uint64(rec[i])
		}
		if minTs == 0 || ts < minTs {
			minTs = ts
		}
		maxTs = max(maxTs, ts)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "file:\t%s\n", path)
	fmt.Fprintf(tw, "format version:\t%d\n", h.FormatVersion)
	fmt.Fprintf(tw, "schema version:\t%d\n", h.SchemaVersion)
	fmt.Fprintf(tw, "kernel release:\t%s\n", h.KernelRelease)
	fmt.Fprintf(tw, "hostname:\t%s\n", h.Hostname)
	fmt.Fprintf(tw, "cpus:\t%d\n", h.NumCPU)
	fmt.Fprintf(tw, "capture start:\t%s\n", h.CaptureStart.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(tw, "boot offset:\t%d ns\n", h.BootOffsetNs)
	if h.CollectionIntervalMs > 0 {
		fmt.Fprintf(tw, "interval:\t%d ms\n", h.CollectionIntervalMs)
	}
	if h.Note != "" {
		fmt.Fprintf(tw, "note:\t%s\n", h.Note)
	}
	var kinds []string
	for _, k := range h.Kinds {
		s := k.Name
		if !k.Enabled {
			s += " (off)"
		} else if k.SampleEvery > 1 {
			s += fmt.Sprintf(" (1 in %d)", k.SampleEvery)
		}
		if k.MinLatencyNs > 0 {
			s += fmt.Sprintf(" (>= %s)", time.Duration(k.MinLatencyNs))
		}
		kinds = append(kinds, s)
	}
	fmt.Fprintf(tw, "kinds:\t%s\n", strings.Join(kinds, ", "))
	total := r.Records()
	span := time.Duration(0)
	if maxTs > minTs {
		span = time.Duration(maxTs - minTs)
	}
	fmt.Fprintf(tw, "records:\t%d (%d bytes) over %s of event time\n", total, bytes, span.Round(time.Millisecond))
	tw.Flush()

	st, haveStats := r.Stats()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	if haveStats {
		fmt.Fprintln(tw, "kind\trecords\tseen\temitted\tlost\tfiltered\t")
	} else {
		fmt.Fprintln(tw, "kind\trecords\t")
	}
	for k := decode.Kind(1); k < decode.NumKinds; k++ {
		if haveStats && int(k) < st.N {
			s := st.Kinds[k]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", k, counts[k], s.Seen, s.Emitted, s.Lost, s.Filtered)
		} else {
			fmt.Fprintf(tw, "%s\t%d\t\n", k, counts[k])
		}
	}
	if other > 0 {
		fmt.Fprintf(tw, "unknown\t%d\t\n", other)
	}
	tw.Flush()
	return readErr
}
