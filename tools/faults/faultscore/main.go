// Command faultscore scores `ainka replay --tap predict` output against a
// fault benchmark's labels (tools/faults), for the joint score, the
// highest feature score and the host alarm:
//
//	ainka replay T.trace --tap predict | go run ./tools/faults/faultscore -labels T.labels.json
//
// It prints, per host-level score, each fault's detection, delay, maximum
// and drivers, then the false alarms on the clean windows. With -decode
// (`ainka replay T.trace --tap decode` output) and -sched (the
// recording's sched_switch sampling) it also counts the windows in which
// other jobs ran (faults.ReadForeign) and the false alarms on the clean
// windows without them:
//
//	ainka replay T.trace --tap decode > T.decode
//	ainka replay T.trace --tap predict | go run ./tools/faults/faultscore -labels T.labels.json -decode T.decode -sched 48
//
// It is how a
// recording that is not committed (too large, or taken for a held-out
// check) is scored exactly as TestFaultBenchmark scores testdata/faults.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ainka/ainka/tools/faults"
)

// errUsage is a bad command line (exit 2).
var errUsage = errors.New("usage")

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "faultscore:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("faultscore", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	labelsPath := fs.String("labels", "", "the labels file (required)")
	warmup := fs.Int("warmup", 300, "windows at the start that are neither fault nor clean")
	decode := fs.String("decode", "", "the recording's --tap decode output: also score without the seconds in which other jobs ran")
	sched := fs.Int("sched", 0, "with -decode: the recording's sched_switch sampling (1 in N)")
	rate := fs.Int("rate", faults.ForeignRate, "with -decode: switches per second of other jobs' tasks that make a second foreign")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *labelsPath == "" || fs.NArg() > 0 || (*decode != "") != (*sched > 0) {
		return fmt.Errorf("%w: faultscore -labels FILE [-decode FILE -sched N [-rate N]] < TAP", errUsage)
	}
	labels, err := faults.ReadLabels(*labelsPath)
	if err != nil {
		return err
	}
	ws, names, err := faults.ReadTap(in)
	if err != nil {
		return err
	}
	o := faults.Options{Warmup: *warmup, Recovery: 10 * time.Second}
	var foreign *faults.Foreign
	if *decode != "" {
		f, err := faults.ReadForeignFile(*decode, *sched, *rate)
		if err != nil {
			return err
		}
		foreign = &f
		printForeign(out, faults.ForeignWindows(ws, labels, o, f))
	}
	for _, h := range faults.HostScores() {
		o.Threshold = h.Threshold
		r := faults.Score(ws, names, labels, h.Host, o)
		n := 0
		for _, f := range r.Faults {
			drivers := f.Drivers
			if h.Name == "alarm" {
				drivers = f.AlarmDrivers
			}
			if f.Detected {
				n++
			}
			fmt.Fprintf(out, "%-11s %-14s windows %3d detected %-5v delay %-8v max %.3f drivers %v\n",
				h.Name, f.Name, f.Windows, f.Detected, f.Delay.Round(time.Millisecond), f.MaxScore, drivers)
		}
		fmt.Fprintf(out, "%-11s %d/%d detected; %d false alarms in %.2f clean minutes (%.1f per 10 min); clean p99 %.3f; NAB standard %.2f\n",
			h.Name, n, len(r.Faults), r.FalseAlarms, r.CleanMinutes, 10*float64(r.FalseAlarms)/r.CleanMinutes, r.CleanP99, r.NAB)
		if foreign != nil {
			x := o
			x.Exclude = foreign.At
			if r := faults.Score(ws, names, labels, h.Host, x); r.CleanWindows == 0 {
				fmt.Fprintf(out, "%-11s without other jobs: no clean window left\n", h.Name)
			} else {
				fmt.Fprintf(out, "%-11s without other jobs: %d false alarms in %.2f clean minutes (%.1f per 10 min)\n",
					h.Name, r.FalseAlarms, r.CleanMinutes, 10*float64(r.FalseAlarms)/r.CleanMinutes)
			}
		}
	}
	return nil
}

// printForeign prints how many windows of each label lay in seconds in
// which other jobs ran.
func printForeign(out io.Writer, cs []faults.ForeignCount) {
	fmt.Fprint(out, "other jobs' windows:")
	for _, c := range cs {
		fmt.Fprintf(out, " %s %d of %d;", c.Name, c.Foreign, c.Windows)
	}
	fmt.Fprintln(out)
}
