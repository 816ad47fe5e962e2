package actuate

import (
	"github.com/ainka/ainka/stages/actuate/journal"
	"github.com/ainka/ainka/stages/decide"
	"github.com/ainka/ainka/stages/decide/action"
)

// Claim journals, with one fsync for all, the current values of the knobs
// the actions write, as claims at rest (journal.Journal.Claim): the first
// change of each then needs no fsync between its condition and its write
// (issue 16, user-space reaction). It is called when policies are loaded,
// off the path from a window to a write. Only file knobs (sysctls, cgroup
// files, readahead, cpufreq) are claimed: a process selector's matches
// come and go, and the kernel module's recommendations are not the
// host's. A knob that cannot be read now is left to be claimed by its
// first change, as before. In dry-run it does nothing. It returns the
// keys it claimed.
//
// The stage's lock is held only to read the knobs, not through the
// journal's fsync: a reload's claim must not stall the pipeline's changes
// (journal.Journal.Claim).
func (s *Stage) Claim(as []decide.PolicyAction) ([]string, error) {
	j, cs := s.claims(as)
	if j == nil {
		return nil, nil
	}
	keys, err := j.Claim(cs)
	if err != nil {
		s.log.Warn("claim knobs ahead of their first change; that change journals them instead", "err", err)
	}
	if len(keys) > 0 {
		s.log.Info("knobs claimed: their originals are journaled before any change", "knobs", keys)
	}
	return keys, err
}

// claims reads the current values of the file knobs the actions write,
// under the stage's lock.
func (s *Stage) claims(as []decide.PolicyAction) (*journal.Journal, []journal.Claim) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.j == nil || s.closed {
		return nil, nil
	}
	var cs []journal.Claim
	for _, a := range as {
		if a.Action.Kind == action.Notify {
			continue
		}
		plans, err := s.plan(a.Action)
		if err != nil {
			continue
		}
		for _, p := range plans {
			if p.k.typ != "file" {
				continue
			}
			if _, y := s.yielded[p.k.key]; y {
				continue
			}
			cur, err := p.k.read()
			if err != nil {
				continue
			}
			cs = append(cs, journal.Claim{Key: p.k.key, Type: p.k.typ, Path: p.k.path, Orig: cur, Policy: a.Policy})
		}
	}
	return s.j, cs
}
