package view

// timelineLen is how many decisions and changes the timeline keeps: the
// dashboard's history, far more than a snapshot's last few.
const timelineLen = 512

// Event is one entry of the timeline: a decision of the engine or what
// actuate did with one, numbered in the order the recorder saw them.
type Event struct {
	Seq    uint64 `json:"seq"`
	TimeNs uint64 `json:"time_ns"` // event time
	Type   string `json:"type"`    // decision or change
	// Kind is a decision's kind (apply, revert, effect, state) or a
	// change's status (applied, dry_run, restored, ...).
	Kind   string `json:"kind"`
	Policy string `json:"policy,omitempty"`
	Action string `json:"action,omitempty"`
	Knob   string `json:"knob,omitempty"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
	Why    string `json:"why"`
	// Gain is what the tuner that made a change measured for it, once
	// it settled on it ("+12 % latency tasks' run-queue wait").
	Gain string `json:"gain,omitempty"`
}

// timeline is a bounded log of events; it compacts in halves so adding
// stays amortised O(1) without a ring's index arithmetic.
type timeline struct {
	ev  []Event
	seq uint64
}

func (t *timeline) add(e Event) {
	t.seq++
	e.Seq = t.seq
	t.ev = append(t.ev, e)
	if len(t.ev) >= 2*timelineLen {
		t.ev = append(t.ev[:0], t.ev[len(t.ev)-timelineLen:]...)
	}
}

// since returns copies of the events numbered after seq, at most
// timelineLen of them, oldest first.
func (t *timeline) since(seq uint64) []Event {
	ev := t.ev[max(len(t.ev)-timelineLen, 0):]
	i := len(ev)
	for i > 0 && ev[i-1].Seq > seq {
		i--
	}
	return append([]Event(nil), ev[i:]...)
}

// Timeline returns the decisions and changes numbered after seq (0: all
// that are kept), oldest first; Seq of the last one is the next call's seq.
func (r *Recorder) Timeline(seq uint64) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.timeline.since(seq)
}
