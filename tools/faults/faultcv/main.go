// Command faultcv chooses the host alarm's setting across recordings of
// the kernel-fault benchmark (tools/faults.CrossRecordings): for each
// recording, the setting the criterion picks on the others, scored on
// it; then the setting picked on all of them, and the default, on each.
//
//	ainka replay A.trace --tap predict > A.tap   # for each recording
//	go run ./tools/faults/faultcv [-grid wide] A.tap A.labels.json B.tap B.labels.json ...
//
// A recording's clean parts hold whatever the host did meanwhile; only
// a setting chosen on some recordings and scored on another shows
// whether its false-alarm rate holds on a host it was not tuned on.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict/alarm"
	"github.com/ainka/ainka/tools/faults"
)

// errUsage is a bad command line (exit 2).
var errUsage = errors.New("usage")

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "faultcv:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("faultcv", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	gridName := fs.String("grid", "wide", "settings to choose from: wide (faults.WideGrid), narrow (faults.Grid) sustained (faults.SustainedGrid), quick (faults.QuickGrid) or smooth (faults.SmoothGrid)")
	warmup := fs.Int("warmup", 300, "windows at the start that are neither fault nor clean")
	headroom := fs.Bool("headroom", false, "also report, per fault, the feature whose lasting deviation (default setting) stood furthest above its clean maximum")
	evid := fs.Bool("evidence", false, "also report, per fault, how far the raw values of the features the faults should move rose above their clean maximum")
	joints := fs.Bool("joint", false, "also report, per fault, the joint score's maximum over its clean 99th percentile")
	var decodes []string
	fs.Func("decode", "DECODE:SCHED, once per recording in order: its --tap decode output and sched_switch sampling; clean windows in seconds in which other jobs ran are then left out (faults.ReadForeign)", func(v string) error {
		decodes = append(decodes, v)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	grids := map[string]func() []alarm.Params{"wide": faults.WideGrid, "narrow": faults.Grid, "sustained": faults.SustainedGrid, "quick": faults.QuickGrid, "smooth": faults.SmoothGrid}
	mk, ok := grids[*gridName]
	if !ok || fs.NArg() < 4 || fs.NArg()%2 != 0 {
		return fmt.Errorf("%w: faultcv [-grid wide|narrow|sustained|quick|smooth] TAP LABELS TAP LABELS [TAP LABELS...]", errUsage)
	}
	recs, err := load(fs.Args())
	if err != nil {
		return err
	}
	if err := exclude(recs, decodes); err != nil {
		return err
	}
	grid, o := mk(), faults.Options{Warmup: *warmup, Recovery: 10 * time.Second}
	folds, all, err := faults.CrossRecordings(recs, grid, o)
	if err != nil {
		return err
	}
	for _, f := range folds {
		fmt.Fprintf(out, "held out %s: chosen on the others %s (there %d detected, %d false alarms)\n  on %s: %s\n",
			f.HeldOut, describe(f.Chosen), f.TrainDetected, f.TrainFalseAlarms, f.HeldOut, summary(f.Result))
	}
	if *headroom {
		if err := headrooms(out, recs, o); err != nil {
			return err
		}
	}
	if *evid {
		if err := evidence(out, recs, o); err != nil {
			return err
		}
	}
	if *joints {
		joint(out, recs, o)
	}
	for _, c := range []struct {
		name string
		p    alarm.Params
	}{{"chosen on all", grid[all]}, {"default", alarm.DefaultParams()}} {
		fmt.Fprintf(out, "%s: %s\n", c.name, describe(c.p))
		for _, r := range recs {
			rep, err := score(r, c.p, o)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "  on %s: %s\n", r.Name, summary(rep))
		}
	}
	return nil
}

// exclude reads each recording's DECODE:SCHED (none, or one per
// recording) and sets its Exclude to the seconds in which other jobs ran.
func exclude(recs []faults.Recording, decodes []string) error {
	if len(decodes) == 0 {
		return nil
	}
	if len(decodes) != len(recs) {
		return fmt.Errorf("%w: %d -decode for %d recordings: give one per recording, in order", errUsage, len(decodes), len(recs))
	}
	for i, d := range decodes {
		path, n, ok := strings.Cut(d, ":")
		sched, err := strconv.Atoi(n)
		if !ok || err != nil || sched < 1 {
			return fmt.Errorf("%w: -decode %q: want DECODE:SCHED with SCHED ≥ 1", errUsage, d)
		}
		fr, err := faults.ReadForeignFile(path, sched, faults.ForeignRate)
		if err != nil {
			return err
		}
		recs[i].Exclude = fr.At
	}
	return nil
}

// load reads TAP LABELS pairs.
func load(args []string) ([]faults.Recording, error) {
	var recs []faults.Recording
	for i := 0; i < len(args); i += 2 {
		labels, err := faults.ReadLabels(args[i+1])
		if err != nil {
			return nil, err
		}
		f, err := os.Open(args[i])
		if err != nil {
			return nil, fmt.Errorf("read tap: %w", err)
		}
		ws, names, err := faults.ReadTap(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", args[i], err)
		}
		recs = append(recs, faults.Recording{Name: args[i], Ws: ws, Names: names, Labels: labels})
	}
	return recs, nil
}

func score(r faults.Recording, p alarm.Params, o faults.Options) (faults.Report, error) {
	run, err := faults.RunAlarm(r.Ws, r.Names, p)
	if err != nil {
		return faults.Report{}, err
	}
	o.Threshold, o.Exclude = alarm.Enter, r.Exclude
	return faults.Score(run, r.Names, r.Labels, faults.Alarm, o), nil
}

func describe(p alarm.Params) string {
	return fmt.Sprintf("smooth %d factor %g min_z %g alpha %g decay %g one_sided %v median %v hold %d sustained %v quick %d quick_factor %g psi_floor %g smoothed %s span %d",
		p.Smooth, p.Factor, p.MinZ, p.Alpha, p.Decay, p.OneSided, p.Median, p.Hold, p.Sustained, p.Quick, p.QuickFactor, p.PSIFloor, featureSet(p.Smoothed), p.Span)
}

// featureSet names the features of a bit set ("-": none).
func featureSet(m uint64) string {
	var names []string
	for i := features.ID(0); i < features.Count; i++ {
		if m&(1<<i) != 0 {
			names = append(names, i.String())
		}
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ",")
}

// summary: detections, false alarms (per 10 clean minutes), median delay
// and each fault's delay ("-": missed).
func summary(r faults.Report) string {
	var (
		delays []time.Duration
		each   []string
		n      int
	)
	for _, f := range r.Faults {
		if f.Windows == 0 {
			continue
		}
		n++
		if !f.Detected {
			each = append(each, f.Name+" -")
			continue
		}
		delays = append(delays, f.Delay)
		each = append(each, fmt.Sprintf("%s %.2fs", f.Name, f.Delay.Seconds()))
	}
	med := "-"
	if len(delays) > 0 {
		slices.Sort(delays)
		med = delays[len(delays)/2].Round(10 * time.Millisecond).String()
	}
	return fmt.Sprintf("%d/%d detected, median delay %s; %d false alarms in %.2f clean minutes (%.1f per 10 min) [%s]",
		len(delays), n, med, r.FalseAlarms, r.CleanMinutes, 10*float64(r.FalseAlarms)/r.CleanMinutes, strings.Join(each, ", "))
}

// headrooms prints each recording's faults' headroom (faults.Headrooms):
// how far the best feature's lasting deviation inside the fault stood
// above its largest on the clean windows.
func headrooms(out io.Writer, recs []faults.Recording, o faults.Options) error {
	for _, r := range recs {
		o.Exclude = r.Exclude
		hs, err := faults.Headrooms(r.Ws, r.Names, r.Labels, alarm.DefaultParams(), o)
		if err != nil {
			return err
		}
		for _, h := range hs {
			if h.Feature == "" {
				fmt.Fprintf(out, "headroom %s %s: no feature\n", r.Name, h.Fault)
				continue
			}
			fmt.Fprintf(out, "headroom %s %s: %s %.1f inside, %.1f clean max (%.2f×)\n", r.Name, h.Fault, h.Feature, h.Inside, h.Clean, h.Ratio)
		}
	}
	return nil
}
