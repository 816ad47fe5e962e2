package actuate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ainka/ainka/stages/decide/action"
)

// Capability says whether one kind of actuator works on this host.
type Capability struct {
	Kind      string `json:"kind"`
	Available bool   `json:"available"`
	Detail    string `json:"detail"`
}

// Capabilities probes every actuator kind on this host, for status
// displays; an action of an unavailable kind is reported "unsupported".
func (s *Stage) Capabilities() []Capability {
	root := os.Geteuid() == 0
	var out []Capability
	add := func(k action.Kind, ok bool, format string, args ...any) {
		out = append(out, Capability{Kind: k.String(), Available: ok, Detail: fmt.Sprintf(format, args...)})
	}
	if _, err := os.Stat(filepath.Join(s.cfg.ProcSys, "vm", "swappiness")); err != nil {
		add(action.Sysctl, false, "%s: %v", s.cfg.ProcSys, err)
	} else {
		add(action.Sysctl, root, "%s, %d names on the allowlist%s", s.cfg.ProcSys, len(action.Sysctls), rootNote(root))
	}
	switch {
	case s.cfg.CgroupRoot == "":
		add(action.Cgroup, false, "%v", ErrNoCgroup2)
	default:
		ctrls := readTrim(filepath.Join(s.cfg.CgroupRoot, "cgroup.controllers"))
		d := fmt.Sprintf("cgroup v2 at %s, controllers: %s", s.cfg.CgroupRoot, ctrls)
		if s.cfg.Cgroup1CPU != "" && !v2Has(s.cfg.CgroupRoot, "cpu") {
			d += fmt.Sprintf("; cpu.weight via cgroup v1 cpu.shares at %s", s.cfg.Cgroup1CPU)
		}
		add(action.Cgroup, root, "%s%s", d, rootNote(root))
	}
	if ents, err := os.ReadDir(s.cfg.SysBlock); err != nil || len(ents) == 0 {
		add(action.Readahead, false, "no block devices in %s", s.cfg.SysBlock)
	} else {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		add(action.Readahead, root, "devices: %s%s", strings.Join(names, " "), rootNote(root))
	}
	add(action.Nice, root, "setpriority on every thread; nice 0..19 only%s", rootNote(root))
	add(action.IOPrio, root, "ioprio_set; idle or be:0..7%s", rootNote(root))
	add(action.Sched, root, "sched_setattr on every thread; SCHED_BATCH or SCHED_IDLE from SCHED_OTHER only%s", rootNote(root))
	if _, err := os.Stat(filepath.Join(s.cfg.CPUDir, "cpu0", "cpufreq")); err != nil {
		add(action.CPUFreq, false, "unsupported on this host: no %s", filepath.Join(s.cfg.CPUDir, "cpu0", "cpufreq"))
	} else {
		add(action.CPUFreq, root, "governor %s%s", readTrim(filepath.Join(s.cfg.CPUDir, "cpu0", "cpufreq", "scaling_governor")), rootNote(root))
	}
	if s.kernel == nil {
		add(action.Kernel, false, "kernel module not loaded: actuating from user space")
	} else {
		add(action.Kernel, true, "ainka_core over generic netlink")
	}
	return out
}

func rootNote(root bool) string {
	if root {
		return ""
	}
	return " (needs root)"
}
