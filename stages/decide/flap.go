package decide

// flapDetector tracks which policy last wrote each knob. When the writer
// keeps changing, policies are undoing each other.
type flapDetector struct {
	count  int    // writer changes that make flapping
	window uint64 // within this much event time
	knobs  map[string]*knobHist
}

type knobHist struct {
	writer  string
	changes []uint64 // event times the writer changed
}

func newFlapDetector(count int, window uint64) *flapDetector {
	return &flapDetector{count: count, window: window, knobs: map[string]*knobHist{}}
}

// note records that writer wrote key at now. When that makes count writer
// changes within the window it returns the previous writer and the number
// of changes; otherwise prev is empty.
func (f *flapDetector) note(key, writer string, now uint64) (prev string, changes int) {
	h := f.knobs[key]
	if h == nil {
		h = &knobHist{}
		f.knobs[key] = h
	}
	if h.writer == writer || h.writer == "" {
		h.writer = writer
		return "", 0
	}
	prev, h.writer = h.writer, writer
	h.changes = append(h.changes, now)
	cut := 0
	for cut < len(h.changes) && now-h.changes[cut] > f.window {
		cut++
	}
	h.changes = h.changes[cut:]
	if len(h.changes) < f.count {
		return "", 0
	}
	return prev, len(h.changes)
}

// settle ends a flap on key: winner keeps it, the count starts over.
func (f *flapDetector) settle(key, winner string) {
	h := f.knobs[key]
	h.changes = h.changes[:0]
	h.writer = winner
}

func (f *flapDetector) reset() { f.knobs = map[string]*knobHist{} }
