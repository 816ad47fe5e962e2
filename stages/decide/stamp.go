package decide

// stamp is an optional event time. Event times count from boot, so zero is
// a valid time and cannot double as "unset"; ok says whether it is set.
type stamp struct {
	ns uint64
	ok bool
}

// startOnce sets the stamp to now unless it is set already: the start of a
// run of windows in which some condition holds.
func (s *stamp) startOnce(now uint64) {
	if !s.ok {
		*s = stamp{ns: now, ok: true}
	}
}

func (s *stamp) set(now uint64) { *s = stamp{ns: now, ok: true} }

func (s *stamp) clear() { *s = stamp{} }

// heldFor reports whether the stamp is set and at least d has passed
// since it by now.
func (s stamp) heldFor(now, d uint64) bool { return s.ok && now-s.ns >= d }

// within reports whether the stamp is set and less than d has passed
// since it by now.
func (s stamp) within(now, d uint64) bool { return s.ok && now-s.ns < d }
