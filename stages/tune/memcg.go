package tune

import (
	"path/filepath"
	"strings"
)

// memcgEnt is a task's memory cgroup as read at event time at.
type memcgEnt struct {
	path string
	v1   bool
	at   uint64
}

// maxMemcgs bounds the cache of tasks' memory cgroups; memcgTTL is how
// long an entry is believed (a task may move: the bench's helpers start
// in their parent's cgroup and write themselves into their own).
const (
	maxMemcgs = 256
	memcgTTL  = uint64(1e9)
)

// memcgOf is Config.MemCgroup through a bounded cache: under memory
// pressure the memory tuner looks at every latency-sensitive task's
// cgroup each window, and /proc/PID/cgroup is read at most once a second
// per task.
func (s *Stage) memcgOf(pid uint32, now uint64) (string, bool, error) {
	if c, ok := s.memcgs[pid]; ok && now-c.at < memcgTTL {
		return c.path, c.v1, nil
	}
	p, v1, err := s.cfg.MemCgroup(pid)
	if err != nil {
		return "", false, err
	}
	if len(s.memcgs) >= maxMemcgs {
		clear(s.memcgs)
	}
	s.memcgs[pid] = memcgEnt{path: p, v1: v1, at: now}
	return p, v1, nil
}

// besideHog reports whether e's memory cgroup and one of the hogs' are
// siblings under a common ancestor in the same hierarchy (v1, or v2 with
// no v1 memory hierarchy: memory.high of the hog), not checked for a
// limit here: victim reads it.
func (s *Stage) besideHog(e *taskEnt, hogs []*taskEnt, now uint64) bool {
	cg, v1, err := s.memcgOf(e.pid, now)
	if err != nil || !v1 && s.cfg.Cgroup1Memory != "" {
		return false
	}
	for _, h := range hogs {
		if hp, hv1, err := s.memcgOf(h.pid, now); err == nil && hv1 == v1 {
			if _, ok := commonParent(cg, hp); ok {
				return true
			}
		}
	}
	return false
}

// commonParent is the closest common ancestor of cgroups a and b, when
// it is neither the root nor one of them (one inside the other: one
// swappiness reaches both).
func commonParent(a, b string) (string, bool) {
	x, y := strings.Split(strings.Trim(a, "/"), "/"), strings.Split(strings.Trim(b, "/"), "/")
	n := 0
	for n < len(x) && n < len(y) && x[n] == y[n] {
		n++
	}
	if n == 0 || n == len(x) || n == len(y) {
		return "", false
	}
	return "/" + strings.Join(x[:n], "/"), true
}

// nearLimitPct: a limited cgroup using this share of its limit is about
// to reclaim (the bench's hog, growing 150 MiB/s, crosses the last 10 %
// of its 512 MiB in a third of a second).
const nearLimitPct = 90

// nearLimit reports whether v1 cgroup anc uses at least nearLimitPct of
// its limit lim, and how much it uses.
func (s *Stage) nearLimit(anc string, lim int64) (float64, bool) {
	use, err := readInt(filepath.Join(s.cfg.Cgroup1Memory, anc, "memory.usage_in_bytes"))
	if err != nil || lim <= 0 {
		return 0, false
	}
	pct := 100 * float64(use) / float64(lim)
	return pct, pct >= nearLimitPct
}
