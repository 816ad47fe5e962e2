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
// brought down in steps (reach), a quarter of its usage at most each. A
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
// it (reach). False when the hog's cgroup is gone (its job ended).
func (s *Stage) hogUsage(tg *target) bool {
	n, err := readInt(filepath.Join(s.cfg.Cgroup2, tg.sel, "memory.current"))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	tg.hogUse = n
	return true
}

// reach: actuate writes memory.high no lower than
// action.MemoryHighFloorPct of the hog's usage, so a setting further down
// is reached in steps, each written after the hog has come down to the
// one before (the floor is named as a share of the same base).
func (memoryFamily) reach(tg *target, from, value string) string {
	p, err := strconv.Atoi(strings.TrimSuffix(value, "%"))
	if tg.high <= 0 || err != nil {
		return value
	}
	floor := tg.hogUse * action.MemoryHighFloorPct / 100
	if tg.high*int64(p)/100 >= floor {
		return value
	}
	return strconv.FormatInt((100*floor+tg.high-1)/tg.high, 10) + "%"
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
// usage), in whole pages.
func highAction(tg *target, value string) string {
	p, _ := strconv.Atoi(strings.TrimSuffix(value, "%"))
	n := tg.high * int64(p) / 100
	n -= n % 4096
	return fmt.Sprintf("cgroup %s memory.high = %d", tg.sel, n)
}
