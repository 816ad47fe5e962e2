package actuate

import (
	"strconv"

	"github.com/ainka/ainka/stages/decide"
)

// Status is what happened to one knob for one decision.
type Status uint8

const (
	Applied     Status = iota // written
	DryRun                    // would have been written
	Unchanged                 // already at the target value
	Restored                  // put back to its original value
	Yielded                   // someone else changed it; AINKA let it go
	Rejected                  // invalid for this host or knob
	Failed                    // the write failed
	Unsupported               // the host does not have this knob
	RateLimited               // too soon after the last change
	Advice                    // notify: logged only
	Measured                  // an effect measurement, logged with the change
	Mirrored                  // a state change sent to the kernel module
)

var statusNames = [...]string{"applied", "dry_run", "unchanged", "restored", "yielded", "rejected", "failed",
	"unsupported", "rate_limited", "advice", "measured", "mirrored"}

func (s Status) String() string { return statusNames[s] }

// Result is the outcome of one decision on one knob.
type Result struct {
	TimeNs    uint64 // event time of the decision
	AppliedNs uint64 // CLOCK_MONOTONIC when the write completed (0: no write)
	// ReceivedNs is CLOCK_MONOTONIC when the stage took the decision:
	// AppliedNs-ReceivedNs is the stage's own share of the latency
	// (journal fsync, write), ReceivedNs-TimeNs the pipeline's.
	ReceivedNs uint64
	// JournaledNs is CLOCK_MONOTONIC when the change's journal record was
	// written (0: none): ReceivedNs to it is the journal's share.
	JournaledNs uint64
	Kind        decide.Kind
	Status      Status
	Policy      string
	Action      string
	Knob        string // journal key, e.g. sysctl:vm.swappiness
	Target      string // file or process, for humans
	Old, New    string
	Clamped     string // why the value differs from the one asked for
	Why         string // the condition and its values
	Err         string
	Score       float64 // Measured: the effect score
	Request     uint64  // the decision's decide.Decision.Request
}

// AppendJSON appends the result as one JSON object with a fixed key order.
func (r *Result) AppendJSON(b []byte) []byte {
	b = append(b, `{"time_ns":`...)
	b = strconv.AppendUint(b, r.TimeNs, 10)
	if r.AppliedNs != 0 {
		b = append(b, `,"received_ns":`...)
		b = strconv.AppendUint(b, r.ReceivedNs, 10)
		b = append(b, `,"applied_ns":`...)
		b = strconv.AppendUint(b, r.AppliedNs, 10)
	}
	b = append(b, `,"kind":"`...)
	b = append(b, r.Kind.String()...)
	b = append(b, `","status":"`...)
	b = append(b, r.Status.String()...)
	b = append(b, '"')
	str := func(k, v string) {
		if v != "" {
			b = append(b, ',', '"')
			b = append(b, k...)
			b = append(b, '"', ':')
			b = strconv.AppendQuote(b, v)
		}
	}
	str("policy", r.Policy)
	str("action", r.Action)
	str("knob", r.Knob)
	str("target", r.Target)
	str("old", r.Old)
	str("new", r.New)
	str("clamped", r.Clamped)
	str("why", r.Why)
	str("error", r.Err)
	if r.Status == Measured {
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, r.Score, 'g', 6, 64)
	}
	if r.Request != 0 {
		b = append(b, `,"request":`...)
		b = strconv.AppendUint(b, r.Request, 10)
	}
	return append(b, '}')
}

// MarshalJSON writes the result as AppendJSON does.
func (r Result) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }
