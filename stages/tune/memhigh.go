package tune

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ainka/ainka/stages/decide/action"
)

// The memory tuner's cgroup v2 knob: memory.high of the hog's cgroup.
//
// Cgroup v2 has no per-cgroup swappiness (the kernel applies vm.swappiness
// to every cgroup), but it can bound the hog instead: a cgroup over its
// memory.high is throttled and made to reclaim its own pages, so the limit
// it shares with the protected task is no longer reached and reclaim under
// that limit stops taking the task's pages. memory.high never invokes the
// OOM killer (memory.max does; the tuner never writes it).
//
// The settings are 90 % and 75 % of the hog's usage when it was found
// (memory.current), before it took the task's room: the limit the two
// share was 90 % full then, or the task's pages were already going to
// swap. Safety bound: actuate never writes memory.high below
// action.MemoryHighFloorPct (75 %) of the cgroup's usage at the time
// (below it the writer reclaims the difference at once and the hog is
// throttled until it is under), so a hog that grew since it was found is
// brought down in steps (restep), a quarter of its usage at most each. A
// hog cgroup whose memory.high is not "max" has one someone chose, and
// is left alone. Settings are listed gentlest first: among settings
// measured within minGain of the best the tuner keeps the one listed
// first (strongFirst: for swappiness the strongest), which here is the
// gentlest on the hog.

// highArms are the settings tried, in percent of the hog's usage when
// found.
var highArms = []int{90, 75}

// minHogBytes: a cgroup using less is not bounded (its 75 % would be near
// memory.high's floor of 16 MiB, actuate's clamp).
const minHogBytes = 32 << 20

// hogHigh makes the target bounding the memory.high of the first of hogs
// whose v2 cgroup is a sibling of latency-sensitive task e's (under a
// common parent, neither inside the other), where reclaim takes e's
// memory or is about to. tg is the victim's target so far (its why).
func (s *Stage) hogHigh(tg target, e *taskEnt, comm string, hogs []*taskEnt) (target, bool) {
	cg, v1, err := s.cfg.MemCgroup(e.pid)
	if err != nil || v1 || strings.Trim(cg, "/") == "" {
		return target{}, false
	}
	for _, h := range hogs {
		hp, hv1, err := s.cfg.MemCgroup(h.pid)
		if err != nil || hv1 {
			continue
		}
		anc, ok := commonParent(cg, hp)
		if !ok {
			continue
		}
		evidence, ok := s.reclaimNear(cg, anc)
		if !ok {
			continue
		}
		use, ok := s.unbounded(hp)
		if !ok {
			continue
		}
		tg.key, tg.sel, tg.high, tg.hogUse = "memory/"+comm+"/memory.high", hp, use, use
		tg.why += besideHog(h) + fmt.Sprintf("; %s uses %.0f MiB beside %s under %s; %s", hp, float64(use)/(1<<20), cg, anc, evidence)
		s.reclaimOf(&tg, cg, false)
		return tg, true
	}
	return target{}, false
}

// reclaimNear says why reclaim takes the memory of v2 cgroup cg or is
// about to: at least minSwapped bytes of it in swap, or its ancestor anc
// at nearLimitPct of a limit (memory.max, or memory.high when lower).
func (s *Stage) reclaimNear(cg, anc string) (string, bool) {
	dir := filepath.Join(s.cfg.Cgroup2, anc)
	if sw, err := readInt(filepath.Join(s.cfg.Cgroup2, cg, "memory.swap.current")); err == nil && sw >= minSwapped {
		return fmt.Sprintf("%.0f MiB of %s in swap", float64(sw)/(1<<20), cg), true
	}
	use, err := readInt(filepath.Join(dir, "memory.current"))
	if err != nil {
		return "", false
	}
	lim := int64(-1)
	for _, f := range []string{"memory.max", "memory.high"} {
		if n, err := readInt(filepath.Join(dir, f)); err == nil && (lim < 0 || n < lim) {
			lim = n // "max" does not parse: no limit
		}
	}
	if lim <= 0 {
		return "", false
	}
	pct := 100 * float64(use) / float64(lim)
	return fmt.Sprintf("%s %.0f%% used: reclaim is next", anc, pct), pct >= nearLimitPct
}

// unbounded reads the usage of v2 cgroup cg when its memory.high is
// "max" (nobody's choice) and the usage is worth bounding. A cgroup whose
// memory.high file is missing has no memory controller enabled by its
// parent: nothing to write.
func (s *Stage) unbounded(cg string) (int64, bool) {
	dir := filepath.Join(s.cfg.Cgroup2, cg)
	b, err := os.ReadFile(filepath.Join(dir, "memory.high"))
	if err != nil || strings.TrimSpace(string(b)) != "max" {
		return 0, false
	}
	use, err := readInt(filepath.Join(dir, "memory.current"))
	return use, err == nil && use >= minHogBytes
}

// hogUsage reads the hog's usage (memory.current) into tg.hogUse, every
// window of a trial: what one write of a setting may reach depends on
// it (short). False when the hog's cgroup is gone (its job ended).
func (s *Stage) hogUsage(tg *target) bool {
	n, err := readInt(filepath.Join(s.cfg.Cgroup2, tg.sel, "memory.current"))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	tg.hogUse = n
	return true
}

// stepper is a family whose actuator bounds each write (memory.high:
// no lower than action.MemoryHighFloorPct of the cgroup's usage), so a
// setting further down is reached by writing it again once the cgroup
// has come down to the last write: short says whether it is still short.
type stepper interface {
	short(s *Stage, tg *target, setting string) bool
}

// stepGapNs is the event time between two writes of a setting on its
// way: actuate writes a knob at most once a second of real time, and
// event time trails its clock by the pipeline's lateness.
const stepGapNs = 1.2e9

// maxResteps bounds the writes after the first of one setting: 6 cuts of
// a quarter reach a fifth of the usage, further than any setting from a
// hog that regrew; a knob someone else wrote since (actuate yields it,
// and the tuner is not told) is not asked for again and again.
const maxResteps = 6

// restep writes the setting in place again when its family says the
// last write fell short; the arm is measured again from the new write
// (the windows before measured a setting on its way).
func (t *tuner) restep(s *Stage, now uint64) {
	st, ok := t.fam.(stepper)
	switch {
	case !ok || t.mode != Act:
		return
	case !t.active || !t.applied:
		t.tg.stepFor = ""
		return
	case t.tg.stepFor != t.setting:
		t.tg.stepFor, t.tg.stepNs, t.tg.steps = t.setting, now, 0 // written just now
		return
	case t.tg.steps >= maxResteps || now < t.tg.stepNs+stepGapNs || !st.short(s, &t.tg, t.setting):
		return
	}
	t.tg.stepNs, t.tg.steps = now, t.tg.steps+1
	t.apply(s, now, t.setting, fmt.Sprintf("the next step to %s: actuate writes it no lower than %d%% of the usage a step",
		t.fam.action(&t.tg, t.setting), action.MemoryHighFloorPct))
	t.sum, t.sq, t.n, t.since = 0, 0, 0, now
}

// short: the hog's memory.high is above the setting, and the hog has
// come down far enough for one more write to get closer (actuate's floor,
// a share of its usage, is below the limit in place).
func (memoryFamily) short(s *Stage, tg *target, setting string) bool {
	if tg.high <= 0 {
		return false
	}
	in, err := readInt(filepath.Join(s.cfg.Cgroup2, tg.sel, "memory.high"))
	return err == nil && in > highBytes(tg, setting) && tg.hogUse*action.MemoryHighFloorPct/100 < in
}

// highArmsOf are the original and the memory.high settings of tg.
func highArmsOf(tg *target) []string {
	arms := []string{""}
	for _, p := range highArms {
		if tg.high*int64(p)/100 >= 16<<20 {
			arms = append(arms, strconv.Itoa(p)+"%")
		}
	}
	return arms
}

// highAction is the action setting tg's hog to value (a share of its
// usage).
func highAction(tg *target, value string) string {
	return fmt.Sprintf("cgroup %s memory.high = %d", tg.sel, highBytes(tg, value))
}

// highBytes is setting ("90%": a share of the hog's usage when found) in
// bytes, in whole pages: the kernel keeps the limit in pages.
func highBytes(tg *target, setting string) int64 {
	p, _ := strconv.Atoi(strings.TrimSuffix(setting, "%"))
	n := tg.high * int64(p) / 100
	return n - n%4096
}
