package actuate

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Rollback restores every knob AINKA changed (yielding those changed by
// someone else since) and returns what it did.
func (s *Stage) Rollback() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rollback("rollback")
}

func (s *Stage) rollback(why string) []Result {
	if s.j == nil {
		return nil
	}
	var out []Result
	for _, e := range s.j.Open() {
		r := s.restoreEntry(e, why, false)
		if e.Resting(same) && r.Status == Restored && r.Err == "" && r.AppliedNs == 0 {
			continue // a claim at rest held no change: closed, nothing to say
		}
		s.logResult(&r)
		out = append(out, r)
	}
	s.groups = map[string][]string{}
	return out
}

// RollbackCommands returns shell commands equivalent to Rollback, for
// "ainka-cli rollback --print".
func (s *Stage) RollbackCommands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.j == nil {
		return nil
	}
	var out []string
	for _, e := range s.j.Open() {
		if e.Resting(same) {
			continue // AINKA's original is back already
		}
		k, err := s.knobFor(e)
		if err != nil {
			out = append(out, "# "+err.Error())
			continue
		}
		out = append(out, k.cmd(e.Orig))
	}
	// Yielded knobs hold someone else's value: nothing to roll back, but
	// their original is said, as a comment, so it is not lost.
	for _, e := range s.j.Yields() {
		cmd := "(unknown knob)"
		if k, err := s.knobFor(e); err == nil {
			cmd = k.cmd(e.Orig)
		}
		out = append(out, fmt.Sprintf("# %s was yielded to an outside change (now %s); its value before AINKA: %s", e.Key, e.Outside, cmd))
	}
	return out
}

// Changes lists the knobs AINKA has changed and not restored.
func (s *Stage) Changes() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.j == nil {
		return nil
	}
	var out []Change
	for _, e := range s.j.Open() {
		if e.Resting(same) {
			continue // claimed, holding its original: no change
		}
		c := Change{Key: e.Key, Target: e.Path, Original: e.Orig, Value: e.Written, Policy: e.Policy, Why: e.Why, Since: e.Since}
		if k, ok := s.knobs[e.Key]; ok {
			c.Target = k.desc
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Reset reverts every change, forgets rate-limit history and the knobs
// yielded to outside changes (AINKA may change them again); the kernel
// module, when loaded, is reset too.
func (s *Stage) Reset() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.rollback("reset")
	s.lastWrite = map[string]time.Time{}
	for key := range s.yielded {
		if s.j != nil {
			if err := s.j.Forget(key); err != nil {
				s.log.Error("journal: forget a yield", "knob", key, "err", err)
				continue
			}
		}
		delete(s.yielded, key)
	}
	if s.kernel != nil && !s.cfg.DryRun {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := s.kernel.Reset(ctx); err != nil {
			s.log.Warn("kernel module reset failed", "err", err)
		}
	}
	return out
}
