package traceinfo

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/trace"
)

// Write prints the header of the trace at path, its per-kind record
// counts and the last kernel stats snapshot. A damaged file prints what
// comes before the damage and returns the error.
func Write(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open trace: %w", err)
	}
	defer f.Close()
	r, err := trace.NewReader(f)
	if err != nil {
		return err
	}
	sc, readErr := scanTrace(r)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "file:\t%s\n", path)
	writeHeader(tw, r.Header())
	fmt.Fprintf(tw, "records:\t%d (%d bytes) over %s of event time\n", r.Records(), sc.bytes, sc.span().Round(time.Millisecond))
	tw.Flush()
	fmt.Fprintln(w)
	st, haveStats := r.Stats()
	writeKindTable(w, &sc, st, haveStats)
	return readErr
}

// traceScan is what reading every record of a trace tells.
type traceScan struct {
	counts       [decode.NumKinds]uint64
	other, bytes uint64
	minTs, maxTs uint64
}

func (sc *traceScan) span() time.Duration {
	if sc.maxTs > sc.minTs {
		return time.Duration(sc.maxTs - sc.minTs)
	}
	return 0
}

// scanTrace counts the records per kind and their event-time span, up to
// the end or the damage (returned).
func scanTrace(r *trace.Reader) (traceScan, error) {
	var sc traceScan
	for {
		rec, err := r.NextRecord()
		if err != nil {
			if err != io.EOF {
				return sc, err
			}
			return sc, nil
		}
		sc.bytes += uint64(len(rec))
		if len(rec) < decode.HeaderSize {
			sc.other++
			continue
		}
		k := decode.Kind(uint16(rec[20]) | uint16(rec[21])<<8)
		if k < decode.NumKinds {
			sc.counts[k]++
		} else {
			sc.other++
		}
		ts := uint64(0)
		for i := 7; i >= 0; i-- {
			ts = ts<<8 | uint64(rec[i])
		}
		if sc.minTs == 0 || ts < sc.minTs {
			sc.minTs = ts
		}
		sc.maxTs = max(sc.maxTs, ts)
	}
}

// writeHeader prints the header's fields, one per line.
func writeHeader(tw io.Writer, h trace.Header) {
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
}

// writeKindTable prints the records of each kind beside the kernel's last
// counters, when the trace has them.
func writeKindTable(w io.Writer, sc *traceScan, st trace.Stats, haveStats bool) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	if haveStats {
		fmt.Fprintln(tw, "kind\trecords\tseen\temitted\tlost\tfiltered\t")
	} else {
		fmt.Fprintln(tw, "kind\trecords\t")
	}
	for k := decode.Kind(1); k < decode.NumKinds; k++ {
		if haveStats && int(k) < st.N {
			s := st.Kinds[k]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", k, sc.counts[k], s.Seen, s.Emitted, s.Lost, s.Filtered)
		} else {
			fmt.Fprintf(tw, "%s\t%d\t\n", k, sc.counts[k])
		}
	}
	if sc.other > 0 {
		fmt.Fprintf(tw, "unknown\t%d\t\n", sc.other)
	}
	tw.Flush()
}
