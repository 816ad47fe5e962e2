package tune

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/features"
)

// memoryFamily protects a latency-sensitive task whose pages reclaim
// takes away under memory pressure: it lowers the swappiness that
// reclaim applies to that task's memory, so that reclaim takes it from
// the memory hog instead.
//
// The knob: where the task has a memory cgroup of its own in the cgroup
// v1 hierarchy (this host binds the memory controller there), that
// cgroup's memory.swappiness: reclaim under a parent's limit scans each
// child cgroup with its own swappiness, and at 0 it leaves the child's
// anonymous memory alone, so the hog beside it swaps instead of being
// OOM-killed. 0 is tried only when the task's cgroup has no limit of its
// own (at 0 that limit could OOM-kill the task itself); the floor is 1
// otherwise. Without a v1 memory hierarchy (cgroup v2, where the kernel
// applies vm.swappiness to every cgroup) the hog's memory.high, where the
// memory controller is on (memhigh.go); else vm.swappiness itself, never
// below 10: at 0 the hog cannot swap and is OOM-killed, which is
// not a tuner's call. Advice (and replays) never read the host, so they
// name vm.swappiness.
//
// Objective: the pages reclaim takes from the protected task's memory
// cgroup per second, negated (memory.stat, read every window in act
// mode: readReclaimed). Every page taken from a working set faults back
// in later (a major fault from swap), so this is the cause of the task's
// stalls, and it answers a setting at once: the task's own faults lag
// it by the time the pages already evicted take to come back (~3 s on
// the bench's toucher, longer than an effect window), and scored every
// setting as the one before it. Where no cgroup counter can be read the
// task's page faults are the objective. PSI memory and the hog's faults
// decide whether there is pressure at all, not the score: the hog stalls
// more when it swaps in the task's place, which is the point.
//
// Never against a value someone chose: a v1 cgroup whose
// memory.swappiness differs from its parent's was set for it (a cgroup
// inherits its parent's at creation), and on cgroup v2 a vm.swappiness
// other than the kernel's 60 was set by an administrator; both are left
// alone.
type memoryFamily struct{}

func (memoryFamily) drifting() {}

// workload: the memory tuner is keyed (its trials and bests hold in
// every host regime). Its target key already names the workload: the
// protected command and the knob, found only beside a hog that shares
// its limit; the host regime also flips with the hog's own growth, and
// each flip ended the trial before it had measured a setting.
func (memoryFamily) workload(tg *target) string {
	return "memory pressure on " + tg.sel
}

// workStart: the pressure's start is not tracked; no time to best is
// recorded for the memory tuner.
func (memoryFamily) workStart(*Stage, *target, uint64) uint64 { return 0 }

func (memoryFamily) name() string      { return "memory" }
func (memoryFamily) objective() string { return "reclaim of the protected task" }

// Evidence of pressure: the protected task faults at least minVictimFaults
// times a second and PSI memory some is at least minPSIMemPct. Acting also
// needs the kernel to have swapped out at least minSwapped bytes where the
// knob acts - the task's memory cgroup (memory.stat swap), or the host for
// vm.swappiness: a task that faults because it allocates (a linker, a
// compiler) is no victim of reclaim - or, on v1, the limit the task
// shares with the hog to be at least nearLimitPct used: reclaim is next.
// With that proof read from the host, acting needs only minActFaults, or
// none where the task's cgroup shares an ancestor with a hog's (suffers):
// the task's faults are the pages reclaim took coming back, which lag the
// reclaim itself; in the bench's runs the toucher reached 50 faults/s
// 6 s after the pressure began, and had 0 set only for the last 3 s of a
// 12 s run (p99 0.78x untuned's), while its cgroup at 0 from the start
// made it 8x better (no OOM kill).
const (
	minVictimFaults = 50
	minActFaults    = 5
	minPSIMemPct    = 1
	minSwapped      = 1 << 20
	maxVictims      = 4
)

func (m memoryFamily) find(s *Stage, now uint64) (target, bool) {
	if !pressed(s.tr.host.psiMem, minPSIMemPct) {
		return target{}, false
	}
	var victims, hogs [maxVictims]*taskEnt
	nv, nh := 0, 0
	for i := 0; i < s.tr.nTasks; i++ {
		e := &s.tr.tasks[i]
		if c, _ := classifyTask(e); c != Latency && e.faultsPerS >= minVictimFaults && s.current(e, now) {
			nh = insertByFaults(hogs[:], nh, e)
		}
	}
	for i := 0; i < s.tr.nTasks; i++ {
		e := &s.tr.tasks[i]
		if c, conf := classifyTask(e); c == Latency && conf >= minConfidence && s.current(e, now) && m.suffers(s, e, hogs[:nh], now) {
			nv = insertByFaults(victims[:], nv, e)
		}
	}
	for _, v := range victims[:nv] {
		if tg, ok := m.victim(s, v, hogs[:nh]); ok {
			return tg, true
		}
	}
	return target{}, false
}

// current: e was seen in the last two windows and may be tuned.
func (s *Stage) current(e *taskEnt, now uint64) bool {
	return now-e.lastNs <= 2*s.windowNs && s.mayTarget(e)
}

// suffers says whether latency-sensitive task e may be a victim of the
// hogs' reclaim: it faults minVictimFaults times a second; in act mode,
// minActFaults, or not at all if its memory cgroup shares an ancestor
// with a hog's (victim then checks that reclaim is about to reach it):
// protected before it has lost pages, not after, since the pages lost
// come back one fault at a time, for seconds.
func (memoryFamily) suffers(s *Stage, e *taskEnt, hogs []*taskEnt, now uint64) bool {
	switch {
	case e.faultsPerS >= minVictimFaults:
		return true
	case s.cfg.Memory != Act:
		return false
	case e.faultsPerS >= minActFaults:
		return true
	}
	return s.besideHog(e, hogs, now)
}

// insertByFaults keeps vs[:n] sorted by faults, most first, bounded.
func insertByFaults(vs []*taskEnt, n int, e *taskEnt) int {
	i := min(n, len(vs)-1)
	if n == len(vs) && vs[i].faultsPerS >= e.faultsPerS {
		return n
	}
	for ; i > 0 && vs[i-1].faultsPerS < e.faultsPerS; i-- {
		vs[i] = vs[i-1]
	}
	vs[i] = e
	return min(n+1, len(vs))
}

// victim makes the target protecting e from the first of hogs (the
// busiest faulting tasks that are not latency-sensitive) whose reclaim
// reaches it; in act mode it picks the knob and checks that reclaim
// takes e's memory there, or is about to.
func (m memoryFamily) victim(s *Stage, e *taskEnt, hogs []*taskEnt) (target, bool) {
	_, conf := classifyTask(e)
	comm := decode.CommString(&e.comm)
	tg := target{key: "memory/" + comm + "/vm.swappiness", sel: "vm.swappiness", pid: e.pid, class: Latency, conf: conf,
		why: fmt.Sprintf("%s, %.0f page faults/s; PSI memory some %.1f%%", explainTask(e), e.faultsPerS, s.tr.host.psiMem), orig: 60, limit: 10}
	if s.cfg.Memory != Act {
		if len(hogs) > 0 {
			tg.why += besideHog(hogs[0])
		}
		return tg, true
	}
	if s.cfg.Cgroup1Memory == "" {
		// No v1 memory hierarchy (cgroup v2): the hog beside the task is
		// bounded (memory.high) where the memory controller is on; else
		// vm.swappiness, which reaches every cgroup, the task's among them.
		if tg, ok := s.hogHigh(tg, e, comm, hogs); ok {
			return tg, true
		}
		swapped, err := s.cfg.Swapped("")
		if err != nil || swapped < minSwapped || len(hogs) == 0 || e.faultsPerS < minActFaults {
			return target{}, false
		}
		tg.why += besideHog(hogs[0]) + fmt.Sprintf("; %.0f MiB of the host in swap", float64(swapped)/(1<<20))
		if cg, v1, err := s.cfg.MemCgroup(e.pid); err == nil && !v1 {
			s.reclaimOf(&tg, cg, false)
		}
		return s.sysSwappiness(tg)
	}
	// On v1 a task in the root memory cgroup is left alone: vm.swappiness
	// reaches only the root's pages and cgroups made later.
	cg, v1, err := s.cfg.MemCgroup(e.pid)
	if err != nil || !v1 || strings.Trim(cg, "/") == "" {
		return target{}, false
	}
	swapped, err := s.cfg.Swapped(cg)
	if err != nil {
		return target{}, false
	}
	for _, h := range hogs {
		anc, lim, ok := s.sharedLimit(h, cg)
		if !ok {
			continue
		}
		if swapped >= minSwapped {
			tg.why += besideHog(h) + fmt.Sprintf("; %.0f MiB of %s in swap; both under the limit of %s", float64(swapped)/(1<<20), cg, anc)
			return s.cgroupSwappiness(tg, comm, cg)
		}
		if pct, near := s.nearLimit(anc, lim); near {
			tg.why += besideHog(h) + fmt.Sprintf("; both under the limit of %s, %.0f%% used: reclaim is next", anc, pct)
			return s.cgroupSwappiness(tg, comm, cg)
		}
	}
	return target{}, false
}

func besideHog(h *taskEnt) string {
	return fmt.Sprintf("; beside %s pid %d (%.0f faults/s)", decode.CommString(&h.comm), h.pid, h.faultsPerS)
}

// cgroupSwappiness targets the memory.swappiness of v1 cgroup cg,
// reading its original value and its own limit.
func (s *Stage) cgroupSwappiness(tg target, comm, cg string) (target, bool) {
	dir := filepath.Join(s.cfg.Cgroup1Memory, cg)
	tg.key, tg.sel, tg.limit = "memory/"+comm+"/memory.swappiness", cg, 0
	if lim, err := readInt(filepath.Join(dir, "memory.limit_in_bytes")); err != nil || lim < 1<<60 {
		tg.limit = 1 // a limit of its own: 0 could OOM-kill the task
	}
	n, err := s.original(tg.sel, func() (int, error) { v, err := readInt(filepath.Join(dir, "memory.swappiness")); return int(v), err })
	if err != nil {
		return target{}, false
	}
	// Inherited, or chosen for this cgroup: a value other than its
	// parent's was written by someone, whose choice stands.
	if up, err := readInt(filepath.Join(filepath.Dir(dir), "memory.swappiness")); err != nil || int(up) != n {
		return target{}, false
	}
	tg.orig = n
	s.reclaimOf(&tg, cg, true)
	return tg, true
}

// reclaimOf makes cg's reclaim counter tg's objective when it can be
// read; otherwise the task's faults stay the objective.
func (s *Stage) reclaimOf(tg *target, cg string, v1 bool) {
	if _, err := s.cfg.Reclaimed(cg, v1); err == nil {
		tg.memcg, tg.memV1 = cg, v1
	}
}

// sharedLimit finds the cgroup whose limit the hog's growth and the
// victim's memory (in v1 cgroup cg) share: their closest common ancestor,
// if it has a limit (returned). Only that limit's reclaim, which scans
// each child cgroup with its own swappiness, is what lowering cg's
// swappiness turns from the victim to the hog; a hog elsewhere (or in cg
// itself) is not.
func (s *Stage) sharedLimit(hog *taskEnt, cg string) (string, int64, bool) {
	hp, v1, err := s.cfg.MemCgroup(hog.pid)
	if err != nil || !v1 {
		return "", 0, false
	}
	anc, ok := commonParent(cg, hp)
	if !ok {
		return "", 0, false
	}
	lim, err := readInt(filepath.Join(s.cfg.Cgroup1Memory, anc, "memory.limit_in_bytes"))
	if err != nil || lim >= 1<<60 {
		return "", 0, false
	}
	return anc, lim, true
}

// sysSwappiness targets vm.swappiness, reading its original value.
func (s *Stage) sysSwappiness(tg target) (target, bool) {
	n, err := s.original(tg.sel, func() (int, error) {
		v, err := s.cfg.Sysctl("vm.swappiness")
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(v)
	})
	if err != nil || n != defaultSwappiness {
		return target{}, false // an administrator's choice: left alone
	}
	tg.orig = n
	return tg, true
}

// defaultSwappiness is the kernel's vm.swappiness.
const defaultSwappiness = 60

// arms are the target's floor (0, or 1 under a limit of the task's own)
// and 10, when below the original: the strongest first, because it is
// the one that protects the task (0 on the bench's toucher: p99 4.3×
// better, the hog swapping in its place with no OOM kill) and the floor
// already keeps the task from its own OOM; 10 is the gentler setting for
// a host where the floor costs more than it gives. 30 is not tried: the
// bench measured it no better than the original for an all-anonymous
// task, and each arm costs a drifting trial two steps.
func (memoryFamily) arms(tg *target) []string {
	if tg.high > 0 {
		return highArmsOf(tg)
	}
	arms := []string{""}
	for _, n := range []int{0, 10} {
		n = max(n, tg.limit)
		if n < tg.orig && arms[len(arms)-1] != strconv.Itoa(n) {
			arms = append(arms, strconv.Itoa(n))
		}
	}
	return arms
}

// strongFirst is a family whose arms after the original go from the
// strongest setting to the gentlest, and which keeps the strongest of
// those measured within minGain of the best: the memory tuner's 0 and
// 10 both scored +100 % in a live trial (the task lost no page under
// either while it was measured), and the kernel's memcg reclaim leaves a
// cgroup's anonymous memory alone only at 0 - at 10 it still scans it,
// at a twentieth of the file rate, which for a task with no page cache
// is still its own pages.
type strongFirst interface{ strongFirst() }

func (memoryFamily) strongFirst() {}

// strongest is arm (with its gain) or, for a strongFirst family, the
// first arm measured within minGain of it.
func (t *tuner) strongest(arm int, gain float64) (int, float64) {
	if _, ok := t.fam.(strongFirst); !ok || arm <= 1 {
		return arm, gain
	}
	for a := 1; a < arm; a++ {
		if t.b.pulls[a] > 0 && t.b.mean(a) >= gain-minGain {
			return a, t.b.mean(a)
		}
	}
	return arm, gain
}

// order tries the strongest setting first, before the original, where
// the objective is the cgroup's reclaim: it answers within the step, so
// a setting measured before the original is scored true, and the task
// is protected from the trial's first step (in a 12 s bench run, the
// original first left it exposed for two more seconds). Scored by the
// task's lagging faults the original comes first, as before.
func (memoryFamily) order(tg *target, n int) (o [MaxArms]int, ok bool) {
	if tg.memcg == "" || n < 2 || n > MaxArms {
		return o, false
	}
	o[0], o[1] = 1, 0
	for i := 2; i < n; i++ {
		o[i] = i
	}
	return o, true
}

func (memoryFamily) action(tg *target, value string) string {
	if tg.high > 0 {
		return highAction(tg, value)
	}
	if tg.sel == "vm.swappiness" {
		return "sysctl vm.swappiness = " + value
	}
	return "cgroup " + tg.sel + " memory.swappiness = " + value
}

func (memoryFamily) alive(s *Stage, tg *target, now uint64) bool {
	return s.tr.findTask(tg.pid, now) != nil && (tg.high == 0 || s.hogUsage(tg))
}

func (memoryFamily) measure(s *Stage, v *features.Vector, tg *target) (float64, bool) {
	if tg.memcg != "" {
		return s.reclaimRate(v, tg)
	}
	for i := 0; i < v.NumTasks; i++ {
		if f := &v.Tasks[i]; f.PID == tg.pid {
			return -f.FaultsPerS, f.Runs > 0
		}
	}
	return 0, false
}

// reclaimRate reads tg's reclaim counter and gives the pages taken per
// second since the window before, negated. The first reading of a step
// (none from the end of the window just before: the counter was last
// read in the previous step, or never) only starts the count. "Just
// before" is judged by this window's own length, not the interval the
// stage learned from its first window, which a live source's partial
// first window makes short: against it no two readings were ever close
// enough, and a live trial never measured its first step.
func (s *Stage) reclaimRate(v *features.Vector, tg *target) (float64, bool) {
	n, err := s.cfg.Reclaimed(tg.memcg, tg.memV1)
	if err != nil {
		return 0, false
	}
	prev, at := tg.ctr, tg.ctrNs
	tg.ctr, tg.ctrNs = n, v.EndNs
	if at == 0 || v.EndNs <= at || at+(v.EndNs-v.StartNs)/2 < v.StartNs || n < prev {
		return 0, false
	}
	return -float64(n-prev) * 1e9 / float64(v.EndNs-at), true
}
