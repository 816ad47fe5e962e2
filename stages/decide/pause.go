package decide

// PauseAll pauses every policy that writes a knob, with reason, and
// returns their names. It is what follows a rollback: the operator put
// the host back and the policies must not change it again at once. The
// actions are already undone by whoever calls this, so no Revert is
// queued. Reset (or Resume) lets them act again.
func (s *Stage) PauseAll(reason string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, r := range s.rules.list {
		if !r.writesKnob() || !r.c.Enabled || r.paused {
			continue
		}
		r.paused, r.reason, r.active = true, reason, false
		r.st.Reset()
		names = append(names, r.c.Name)
	}
	if len(names) > 0 {
		s.log.Warn("policies paused", "reason", reason, "policies", len(names))
	}
	return names
}
