package actuate

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ainka/ainka/stages/decide/action"
)

// errUnsupported: the host lacks what the action needs.
var errUnsupported = errors.New("unsupported on this host")

// plan is one knob and how to compute its new value from its current one.
type plan struct {
	k       *knob
	compute func(cur string) (target, clamped string, err error)
}

// plan resolves an action to the knobs it writes.
func (s *Stage) plan(a action.Action) ([]plan, error) {
	switch a.Kind {
	case action.Sysctl:
		return s.planSysctl(a)
	case action.Cgroup:
		return s.planCgroup(a)
	case action.Readahead:
		p := filepath.Join(s.cfg.SysBlock, a.Target, "queue", "read_ahead_kb")
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w: block device %s: no %s", errUnsupported, a.Target, p)
		}
		k := fileKnob("readahead:"+a.Target, p)
		return []plan{{k, func(cur string) (string, string, error) { return numeric(action.ReadaheadSpec, a, cur) }}}, nil
	case action.Nice, action.IOPrio, action.Sched:
		return s.planProcs(a)
	case action.CPUFreq:
		return s.planCPUFreq(a)
	case action.Kernel:
		return s.planKernel(a)
	}
	return nil, fmt.Errorf("action kind %s has no actuator", a.Kind)
}

// planSysctl plans sysctl: the file under /proc/sys, coupled with its partners.
func (s *Stage) planSysctl(a action.Action) ([]plan, error) {
	spec, ok := action.Sysctls[a.Target]
	if !ok {
		return nil, fmt.Errorf("sysctl %q is not on the allowlist", a.Target)
	}
	if ino, ok := action.NetnsSysctl(a); ok {
		return s.planNetnsSysctl(a, ino)
	}
	spec.Name = a.Target
	p := s.sysctlPath(a.Target)
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("%w: sysctl %s: %s does not exist", errUnsupported, a.Target, p)
	}
	return []plan{{s.followingCC(fileKnob("sysctl:"+a.Target, p), a.Target), s.sysctlTarget(a, spec)}}, nil
}

// sysctlTarget computes a sysctl's new value from its current one: the
// action's operation, clamped by the spec, then by the coupled limits.
func (s *Stage) sysctlTarget(a action.Action, spec action.Spec) func(cur string) (string, string, error) {
	return func(cur string) (string, string, error) {
		v, cl, err := numeric(spec, a, cur)
		if err != nil {
			return "", "", err
		}
		return s.couple(a.Target, spec, v, cl)
	}
}

// planCgroup plans a cgroup v2 file (or v1 cpu.shares on hybrid hosts,
// or the v1-only memory.swappiness).
func (s *Stage) planCgroup(a action.Action) ([]plan, error) {
	if a.Knob == "memory.swappiness" {
		return s.planV1(a, s.cfg.Cgroup1Memory, "memory")
	}
	if s.cfg.CgroupRoot == "" {
		return nil, fmt.Errorf("%w: %v", errUnsupported, ErrNoCgroup2)
	}
	spec, ok := action.CgroupFiles[a.Knob]
	if !ok {
		return nil, fmt.Errorf("cgroup file %q is not allowed", a.Knob)
	}
	spec.Name = a.Knob
	p, shares, err := s.cgroupPath(a.Target, a.Knob)
	if err != nil {
		return nil, err
	}
	if shares {
		return s.planShares(a, spec, p), nil
	}
	k := fileKnob("cgroup:"+a.Target+":"+a.Knob, p)
	if a.Knob == "memory.high" {
		return []plan{{k, memHighTarget(spec, a, filepath.Join(filepath.Dir(p), "memory.current"))}}, nil
	}
	return []plan{{k, func(cur string) (string, string, error) { return numeric(spec, a, cur) }}}, nil
}

// memHighTarget computes memory.high's new value, never below
// action.MemoryHighFloorPct of the cgroup's usage read from usageFile
// (a cut to a given limit goes in steps, each a quarter of the usage at
// most). An unreadable usage leaves the value as computed.
func memHighTarget(spec action.Spec, a action.Action, usageFile string) func(cur string) (string, string, error) {
	return func(cur string) (string, string, error) {
		v, why, err := numeric(spec, a, cur)
		n, perr := strconv.ParseFloat(v, 64)
		b, uerr := os.ReadFile(usageFile)
		if err != nil || perr != nil || uerr != nil {
			return v, why, err
		}
		use, uerr := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		floor := math.Ceil(use*action.MemoryHighFloorPct/100/pageSize) * pageSize
		if c, err := strconv.ParseFloat(cur, 64); err == nil {
			floor = min(floor, c) // a cut never raises the limit in place
		}
		if uerr != nil || n >= floor {
			return v, why, nil
		}
		if why != "" {
			why += "; "
		}
		return itoa(floor), why + fmt.Sprintf("bounded to %d%% of the cgroup's usage (%s bytes) per step: below it the cgroup stalls in reclaim",
			action.MemoryHighFloorPct, itoa(use)), nil
	}
}

// planProcs plans nice, ioprio or sched: one knob per selected process.
func (s *Stage) planProcs(a action.Action) ([]plan, error) {
	sel, err := action.ParseSelector(a.Target)
	if err != nil {
		return nil, err
	}
	procs, err := selectProcs(s.cfg.Proc, s.cfg.CgroupRoot, sel)
	if err != nil {
		return nil, err
	}
	if len(procs) == 0 {
		return nil, fmt.Errorf("selector %s matches no process", a.Target)
	}
	var out []plan
	for _, pi := range procs {
		switch a.Kind {
		case action.Sched:
			k := schedKnob(s.cfg.Proc, pi.pid, pi.start, pi.comm)
			out = append(out, plan{k, func(cur string) (string, string, error) {
				floor := cur
				if e, ok := s.entry(k.key); ok {
					floor = e.Orig
				}
				return schedTarget(a, cur, floor)
			}})
		case action.Nice:
			k := procKnob(s.cfg.Proc, "nice", pi.pid, pi.start, pi.comm)
			out = append(out, plan{k, func(cur string) (string, string, error) {
				floor := cur // the nice before AINKA: the journal's original, if it changed it
				if e, ok := s.entry(k.key); ok {
					floor = e.Orig
				}
				return niceTarget(a, cur, floor)
			}})
		default:
			k := procKnob(s.cfg.Proc, "ioprio", pi.pid, pi.start, pi.comm)
			out = append(out, plan{k, func(cur string) (string, string, error) { return a.Value, "", nil }})
		}
	}
	return out, nil
}

// errRaisesPriority refuses a nice value below the process's own.
var errRaisesPriority = errors.New("AINKA never raises a priority")

// niceTarget plans a nice change and refuses a value below floor, the
// process's nice before AINKA changed it: a lower nice is a higher
// priority, which would let a policy favour a process over everything the
// administrator ran (15 → 5 → 0 by "-= 10"). Going back down towards
// floor, as the CPU tuner does between its trials, stays allowed.
func niceTarget(a action.Action, cur, floor string) (string, string, error) {
	t, why, err := numeric(action.NiceSpec, a, cur)
	if err != nil {
		return "", "", err
	}
	tv, err1 := strconv.Atoi(t)
	fv, err2 := strconv.Atoi(strings.TrimSpace(floor))
	if err1 != nil || err2 != nil {
		return "", "", fmt.Errorf("nice: target %q or original %q is not a number", t, floor)
	}
	if tv < fv {
		return "", "", fmt.Errorf("%w: nice %d is below the process's own nice %d", errRaisesPriority, tv, fv)
	}
	return t, why, nil
}

// planCPUFreq plans the governor or energy preference of every CPU.
func (s *Stage) planCPUFreq(a action.Action) ([]plan, error) {
	if _, err := os.Stat(filepath.Join(s.cfg.CPUDir, "cpu0", "cpufreq")); err != nil {
		return nil, fmt.Errorf("%w: cpufreq: no %s (no frequency scaling exposed, as on most VMs)", errUnsupported, filepath.Join(s.cfg.CPUDir, "cpu0", "cpufreq"))
	}
	file, avail := "scaling_governor", "scaling_available_governors"
	if a.Target == "epp" {
		file, avail = "energy_performance_preference", "energy_performance_available_preferences"
	}
	dirs, _ := filepath.Glob(filepath.Join(s.cfg.CPUDir, "cpu[0-9]*", "cpufreq"))
	if len(dirs) == 0 {
		dirs, _ = filepath.Glob(filepath.Join(s.cfg.CPUDir, "cpufreq", "policy[0-9]*"))
	}
	sort.Strings(dirs)
	var out []plan
	for _, d := range dirs {
		p := filepath.Join(d, file)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w: cpufreq: no %s (the driver does not offer %s)", errUnsupported, p, a.Target)
		}
		if b, err := os.ReadFile(filepath.Join(d, avail)); err == nil && !contains(strings.Fields(string(b)), a.Value) {
			return nil, fmt.Errorf("%w: cpufreq: %s %q not offered (%s)", errUnsupported, a.Target, a.Value, strings.TrimSpace(string(b)))
		}
		cpu := filepath.Base(filepath.Dir(d)) // cpuN/cpufreq
		if strings.HasPrefix(filepath.Base(d), "policy") {
			cpu = filepath.Base(d) // cpufreq/policyN
		}
		k := fileKnob("cpufreq:"+cpu+":"+file, p)
		out = append(out, plan{k, func(string) (string, string, error) { return a.Value, "", nil }})
	}
	return out, nil
}

// planKernel plans a recommendation of the kernel module.
func (s *Stage) planKernel(a action.Action) ([]plan, error) {
	if s.kernel == nil {
		return nil, fmt.Errorf("%w: kernel module not loaded", errUnsupported)
	}
	if a.Target == "state" {
		return nil, fmt.Errorf("kernel state is set through the engine's state machine (emergency-mode), not as a knob")
	}
	k := kernelKnob(s.kernel, a.Knob)
	return []plan{{k, func(cur string) (string, string, error) {
		if cur == absent || a.Op == action.Set {
			return strconv.FormatInt(int64(a.Num), 10), "", nil
		}
		c, err := strconv.ParseFloat(cur, 64)
		if err != nil {
			return "", "", fmt.Errorf("recommendation %s: %q", a.Knob, cur)
		}
		return strconv.FormatInt(int64(math.Round(applyOp(a.Op, c, a.Num))), 10), "", nil
	}}}, nil
}

// planV1 plans a file that only cgroup v1 has, in the hierarchy of ctrl
// mounted at root.
func (s *Stage) planV1(a action.Action, root, ctrl string) ([]plan, error) {
	if root == "" {
		return nil, fmt.Errorf("%w: %s is a cgroup v1 file and no v1 %s hierarchy is mounted", errUnsupported, a.Knob, ctrl)
	}
	spec := action.CgroupFiles[a.Knob]
	spec.Name = a.Knob
	p, err := cgroupFile(root, a.Target, a.Knob)
	if err != nil {
		return nil, err
	}
	k := fileKnob("cgroup:"+a.Target+":"+a.Knob, p)
	return []plan{{k, func(cur string) (string, string, error) { return numeric(spec, a, cur) }}}, nil
}

// planShares writes cpu.weight as the cgroup v1 cpu.shares of the same
// cgroup path, on hosts whose cpu controller is bound to v1. The two
// scales meet at the default: weight 100 = 1024 shares.
func (s *Stage) planShares(a action.Action, spec action.Spec, p string) []plan {
	k := fileKnob("cgroup:"+a.Target+":cpu.weight", p)
	return []plan{{k, func(cur string) (string, string, error) {
		sh, err := strconv.ParseFloat(cur, 64)
		if err != nil {
			return "", "", fmt.Errorf("cpu.shares is %q", cur)
		}
		w, why, err := numeric(spec, a, strconv.FormatInt(int64(math.Round(sh*100/1024)), 10))
		if err != nil {
			return "", "", err
		}
		wv, _ := strconv.ParseFloat(w, 64)
		shares := max(2, math.Round(wv*1024/100))
		return itoa(shares), joinWhy(why, "cgroup v1 cpu.shares "+itoa(shares)+" for cpu.weight "+w+" (the cpu controller is bound to cgroup v1 here)"), nil
	}}}
}

func (s *Stage) sysctlPath(name string) string {
	return filepath.Join(s.cfg.ProcSys, strings.ReplaceAll(name, ".", "/"))
}

func applyOp(op action.Op, cur, v float64) float64 {
	switch op {
	case action.Add:
		return cur + v
	case action.Sub:
		return cur - v
	case action.Mul:
		return cur * v
	}
	return v
}

// bound clamps target to the spec's range and to one step from cur.
func bound(spec action.Spec, cur, target float64) (float64, string) {
	var why []string
	t := target
	if spec.MaxStepRatio > 0 && cur > 0 {
		lo, hi := cur/spec.MaxStepRatio, cur*spec.MaxStepRatio
		if t < lo || t > hi {
			t = math.Max(lo, math.Min(hi, t))
			why = append(why, fmt.Sprintf("step bounded to ×%g per change", spec.MaxStepRatio))
		}
	}
	if spec.MaxStepAbs > 0 && math.Abs(t-cur) > spec.MaxStepAbs {
		t = cur + math.Copysign(spec.MaxStepAbs, t-cur)
		why = append(why, fmt.Sprintf("step bounded to ±%g per change", spec.MaxStepAbs))
	}
	if t < spec.Min || t > spec.Max {
		t = math.Max(spec.Min, math.Min(spec.Max, t))
		why = append(why, fmt.Sprintf("clamped to [%g, %g]", spec.Min, spec.Max))
	}
	t = math.Round(t)
	if t != math.Round(target) && len(why) == 0 {
		why = append(why, "rounded")
	}
	return t, strings.Join(why, "; ")
}

func itoa(v float64) string { return strconv.FormatInt(int64(v), 10) }

// pageBytes formats a bound value; a byte count (memory.high) goes down
// to a whole page: the kernel keeps the limit in pages and reads back
// the rounded value, which the stage would take for someone else's write
// and yield the knob. Min is a whole number of pages, so rounding down
// stays in range.
func pageBytes(spec action.Spec, t float64, why string) (string, string, error) {
	if spec.Form != action.Bytes || math.Mod(t, pageSize) == 0 {
		return itoa(t), why, nil
	}
	t -= math.Mod(t, pageSize)
	if why != "" {
		why += "; "
	}
	return itoa(t), why + "rounded down to a page", nil
}

// pageSize is the unit the kernel keeps memory limits in.
var pageSize = float64(os.Getpagesize())

// numeric computes a knob's new value from its current one.
func numeric(spec action.Spec, a action.Action, cur string) (string, string, error) {
	switch spec.Form {
	case action.Int, action.Bytes:
		if a.Op == action.Set && !a.IsNum { // "max"
			if err := spec.CheckValue(a.Value); err != nil {
				return "", "", err
			}
			return a.Value, "", nil
		}
		c, err := strconv.ParseFloat(cur, 64)
		if err != nil {
			if a.Op != action.Set {
				return "", "", fmt.Errorf("%s is %q, not a number: %s needs a number", spec.Name, cur, a.Op)
			}
			// from "max" any limit is a first step
			t, why := bound(action.Spec{Min: spec.Min, Max: spec.Max}, 0, a.Num)
			return pageBytes(spec, t, why)
		}
		t, why := bound(spec, c, applyOp(a.Op, c, a.Num))
		return pageBytes(spec, t, why)
	case action.IOWeight:
		f := strings.Fields(cur)
		c, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return "", "", fmt.Errorf("io.weight is %q", cur)
		}
		var want float64
		if a.Op == action.Set && !a.IsNum {
			vf := strings.Fields(a.Value)
			want, _ = strconv.ParseFloat(vf[len(vf)-1], 64)
		} else {
			want = applyOp(a.Op, c, a.Num)
		}
		t, why := bound(spec, c, want)
		return "default " + itoa(t), why, nil
	case action.CPUMax:
		cf := strings.Fields(cur)
		period := "100000"
		if len(cf) == 2 {
			period = cf[1]
		}
		if a.Op == action.Set {
			vf := strings.Fields(a.Value)
			if vf[0] == "max" || len(cf) == 0 || cf[0] == "max" {
				return a.Value, "", nil
			}
			q, _ := strconv.ParseFloat(vf[0], 64)
			c, _ := strconv.ParseFloat(cf[0], 64)
			qs := spec
			qs.Max = spec.Max * 1000
			t, why := bound(qs, c, q)
			p := period
			if len(vf) == 2 {
				p = vf[1]
			}
			return itoa(t) + " " + p, why, nil
		}
		if len(cf) == 0 || cf[0] == "max" {
			return "", "", fmt.Errorf("cpu.max is %q: set a quota with \"=\" before scaling it", cur)
		}
		c, _ := strconv.ParseFloat(cf[0], 64)
		qs := spec
		qs.Max = spec.Max * 1000
		t, why := bound(qs, c, c*a.Num)
		return itoa(t) + " " + period, why, nil
	case action.Triple, action.Pair, action.Enum:
		if err := spec.CheckValue(a.Value); err != nil {
			return "", "", err
		}
		return norm(a.Value), "", nil
	}
	return "", "", fmt.Errorf("%s: unsupported form", spec.Name)
}

// couple enforces the couplings between sysctls against the values the
// kernel has now. A partner that does not exist here (a network
// namespace has no net.core.rmem_max before 5.x) imposes nothing.
func (s *Stage) couple(name string, spec action.Spec, v, why string) (string, string, error) {
	for _, c := range action.Couplings {
		switch name {
		case c.Low:
			hb, err := os.ReadFile(s.sysctlPath(c.High))
			if err != nil {
				continue
			}
			hi, err := strconv.ParseInt(strings.TrimSpace(string(hb)), 10, 64)
			if err != nil {
				continue
			}
			f := strings.Fields(v)
			changed := false
			for i := range f {
				n, err := strconv.ParseInt(f[i], 10, 64)
				if err == nil && n > hi {
					f[i] = strconv.FormatInt(hi, 10)
					changed = true
				}
			}
			if changed {
				v = strings.Join(f, " ")
				why = joinWhy(why, fmt.Sprintf("limited by %s = %d (%s)", c.High, hi, c.Why))
				if err := spec.CheckValue(v); err != nil {
					return "", "", fmt.Errorf("%s: the coupled limit %s = %d leaves no valid value: %w", name, c.High, hi, err)
				}
			}
		case c.High:
			lb, err := os.ReadFile(s.sysctlPath(c.Low))
			if err != nil {
				continue
			}
			lf := strings.Fields(string(lb))
			lo, err := strconv.ParseInt(lf[len(lf)-1], 10, 64)
			if err != nil {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil && n < lo {
				v = strconv.FormatInt(lo, 10)
				why = joinWhy(why, fmt.Sprintf("kept at or above %s = %d (%s)", c.Low, lo, c.Why))
			}
		}
	}
	return v, why, nil
}

func joinWhy(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// Knobs resolves an action to the knobs it would write now (journal keys:
// a process's is nice:PID:START), without writing anything. Two actions
// that name one process differently (name:X, pid:N) resolve to the same
// key: how an operator's policy is found to hold a knob a tuner wants.
func (s *Stage) Knobs(a action.Action) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, err := s.plan(a)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.k.key
	}
	return keys, nil
}
