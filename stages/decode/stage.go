package decode

import (
	"cmp"
	"fmt"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/plugins/probe/spec"
)

// Stage is the decode stage's processor: raw records in, Events out.
// Counts are kept in plain fields (one goroutine) and published to the
// metrics set once per batch, so the per-record cost is a few loads.
type Stage struct {
	// Counts is the number of records decoded, by kind.
	Counts [NumKinds]uint64
	// Errors is the number of records rejected, by reason (Reason*).
	Errors [NumReasons]uint64
	// ProbeCounts is the number of probe plugin records decoded, by kind
	// (index kind - spec.KindBase).
	ProbeCounts [spec.MaxKinds]uint64

	// probes are the probe plugin kinds this stage accepts (SetProbes),
	// followed in reg when the kinds change at run time (FollowProbes).
	probes      *spec.Set
	reg         *spec.Registry
	probeEvents [spec.MaxKinds]*metrics.Counter
	batchProbes [spec.MaxKinds]uint64
	set         *metrics.Set

	batchCounts [NumKinds]uint64
	batchErrors [NumReasons]uint64
	events      [NumKinds]*metrics.Counter
	errs        [NumReasons]*metrics.Counter
}

// New returns a decoder that publishes ainka_events_total{kind} and
// ainka_decode_errors_total{reason} in set (none if set is nil).
func New(set *metrics.Set) *Stage {
	d := &Stage{set: set}
	if set != nil {
		for k := Kind(1); k < NumKinds; k++ {
			d.events[k] = set.GetOrCreateCounter(fmt.Sprintf(`ainka_events_total{kind=%q}`, k.String()))
		}
		for r := 0; r < NumReasons; r++ {
			d.errs[r] = set.GetOrCreateCounter(fmt.Sprintf(`ainka_decode_errors_total{reason=%q}`, reasonNames[r]))
		}
	}
	return d
}

// Process decodes each record of in and appends the events to out. A bad
// record is counted and skipped.
func (d *Stage) Process(in [][]byte, out []Event) []Event {
	n := len(out)
	if cap(out)-n < len(in) {
		grown := make([]Event, n, n+len(in)+len(in)/4)
		copy(grown, out)
		out = grown
	}
	out = out[:n+len(in)]
	if d.reg != nil {
		if set := d.reg.Load(); set != d.probes {
			d.SetProbes(set)
		}
	}
	for _, rec := range in {
		k, reason := check(rec)
		if reason == ReasonUnknownKind && d.probes != nil {
			// Plugin kinds are off the built-in fast path: only records
			// the enum does not know pay for this lookup.
			p := d.probes.Lookup(uint16(k))
			if p == nil {
				p = d.probes.Retired(uint16(k)) // its plugin went while its records were in flight
			}
			if p != nil {
				if len(rec) != p.Size {
					d.batchErrors[ReasonBadLength]++
					continue
				}
				decode(rec, &out[n])
				d.batchProbes[k-spec.KindBase]++
				n++
				continue
			}
		}
		if reason >= 0 {
			d.batchErrors[reason]++
			continue
		}
		decode(rec, &out[n])
		d.batchCounts[k]++
		n++
	}
	d.publish()
	return out[:n]
}

// SetProbes makes the stage accept the records of the probe plugin kinds
// of set (nil: none), counted in ainka_events_total{kind=PLUGIN}.
func (d *Stage) SetProbes(set *spec.Set) {
	d.probes = set
	d.probeEvents = [spec.MaxKinds]*metrics.Counter{}
	if d.set == nil {
		return
	}
	for i := range spec.MaxKinds {
		k := uint16(spec.KindBase + i)
		if p := cmp.Or(set.Lookup(k), set.Retired(k)); p != nil {
			d.probeEvents[i] = d.set.GetOrCreateCounter(fmt.Sprintf(`ainka_events_total{kind=%q}`, p.Name))
		}
	}
}

// FollowProbes makes the stage take the probe plugin kinds of reg at each
// batch: a reload may add or retire kinds while it runs.
func (d *Stage) FollowProbes(reg *spec.Registry) {
	d.reg = reg
	d.SetProbes(reg.Load())
}

func (d *Stage) publish() {
	for i, c := range d.batchProbes {
		if c != 0 {
			d.ProbeCounts[i] += c
			if d.probeEvents[i] != nil {
				d.probeEvents[i].Add(int(c))
			}
			d.batchProbes[i] = 0
		}
	}
	for k := range d.batchCounts {
		if c := d.batchCounts[k]; c != 0 {
			d.Counts[k] += c
			if d.events[k] != nil {
				d.events[k].Add(int(c))
			}
			d.batchCounts[k] = 0
		}
	}
	for r := range d.batchErrors {
		if c := d.batchErrors[r]; c != 0 {
			d.Errors[r] += c
			if d.errs[r] != nil {
				d.errs[r].Add(int(c))
			}
			d.batchErrors[r] = 0
		}
	}
}

// Decoded returns the total number of records decoded.
func (d *Stage) Decoded() uint64 {
	var n uint64
	for _, c := range d.Counts {
		n += c
	}
	for _, c := range d.ProbeCounts {
		n += c
	}
	return n
}

// Rejected returns the total number of records rejected.
func (d *Stage) Rejected() uint64 {
	var n uint64
	for _, c := range d.Errors {
		n += c
	}
	return n
}

// A plugin record fits an event, behind the same header.
var (
	_ [MaxRecordSize - spec.MaxRecordSize]struct{}
	_ [HeaderSize - spec.HeaderSize]struct{}
	_ [spec.HeaderSize - HeaderSize]struct{}
	_ [int(spec.KindBase) - int(NumKinds)]struct{}
)
