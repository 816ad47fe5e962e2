package actuate

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/ainka/ainka/stages/actuate/journal"
	"github.com/ainka/ainka/stages/decide/action"
)

// errNotAllowed: a journal entry names a knob the allowlist does not.
var errNotAllowed = errors.New("not a knob AINKA may write")

var (
	cpuDirName = regexp.MustCompile(`^(cpu|policy)[0-9]+$`)
	devName    = regexp.MustCompile(`^[A-Za-z0-9._:+-]+$`)
	procID     = regexp.MustCompile(`^[0-9]+:[0-9]+$`)
)

// knobFor rebuilds the knob of a journal entry from its key alone,
// against the allowlist: the entry's stored path is never used, so a
// journal someone edited can only make AINKA write a knob it may write.
func (s *Stage) knobFor(e journal.Entry) (*knob, error) {
	if k, ok := s.knobs[e.Key]; ok {
		return k, nil
	}
	k, err := s.knobForKey(e.Key)
	if err != nil {
		return nil, fmt.Errorf("journal entry %q: %w", e.Key, err)
	}
	if err := checkStored(e.Orig); err != nil {
		return nil, fmt.Errorf("journal entry %q: original value: %w", e.Key, err)
	}
	return k, nil
}

func (s *Stage) knobForKey(key string) (*knob, error) {
	kind, rest, _ := strings.Cut(key, ":")
	switch kind {
	case "sysctl":
		if strings.HasPrefix(rest, action.NetnsPrefix) {
			return s.netnsKnobForKey(key, rest)
		}
		if _, ok := action.Sysctls[rest]; !ok {
			return nil, fmt.Errorf("%w: sysctl %q is not on the allowlist", errNotAllowed, rest)
		}
		return s.followingCC(fileKnob(key, s.sysctlPath(rest)), rest), nil
	case "readahead":
		if !devName.MatchString(rest) || rest == "." || rest == ".." {
			return nil, fmt.Errorf("%w: block device name %q", errNotAllowed, rest)
		}
		return fileKnob(key, filepath.Join(s.cfg.SysBlock, rest, "queue", "read_ahead_kb")), nil
	case "cgroup":
		return s.cgroupKnob(key, rest)
	case "cpufreq":
		cpu, file, _ := strings.Cut(rest, ":")
		if !cpuDirName.MatchString(cpu) || file != "scaling_governor" && file != "energy_performance_preference" {
			return nil, fmt.Errorf("%w: cpufreq %q", errNotAllowed, rest)
		}
		dir := filepath.Join(s.cfg.CPUDir, cpu, "cpufreq")
		if strings.HasPrefix(cpu, "policy") {
			dir = filepath.Join(s.cfg.CPUDir, "cpufreq", cpu)
		}
		return fileKnob(key, filepath.Join(dir, file)), nil
	case "nice", "ioprio", "sched":
		if !procID.MatchString(rest) {
			return nil, fmt.Errorf("%w: process %q", errNotAllowed, rest)
		}
		p, st, _ := strings.Cut(rest, ":")
		pid, err1 := strconv.Atoi(p)
		start, err2 := strconv.ParseUint(st, 10, 64)
		if err1 != nil || err2 != nil || pid <= 1 {
			return nil, fmt.Errorf("%w: process %q", errNotAllowed, rest)
		}
		if kind == "sched" {
			return schedKnob(s.cfg.Proc, pid, start, "?"), nil
		}
		return procKnob(s.cfg.Proc, kind, pid, start, "?"), nil
	case "kernel":
		name, ok := strings.CutPrefix(rest, "recommend:")
		if !ok || name == "" {
			return nil, fmt.Errorf("%w: kernel knob %q", errNotAllowed, rest)
		}
		return kernelKnob(s.kernel, name), nil
	}
	return nil, fmt.Errorf("%w: unknown kind %q", errNotAllowed, kind)
}

// cgroupKnob resolves "cgroup:PATH:FILE" as planCgroup does: the v2 file,
// or cpu.weight as v1 cpu.shares on hybrid hosts. A cgroup removed since
// leaves nothing to restore.
func (s *Stage) cgroupKnob(key, rest string) (*knob, error) {
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return nil, fmt.Errorf("%w: cgroup knob %q", errNotAllowed, rest)
	}
	target, file := rest[:i], rest[i+1:]
	if _, ok := action.CgroupFiles[file]; !ok {
		return nil, fmt.Errorf("%w: cgroup file %q", errNotAllowed, file)
	}
	if s.cfg.CgroupRoot == "" {
		return nil, fmt.Errorf("%w: no cgroup2 mount", errGone)
	}
	p, _, err := s.cgroupPath(target, file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %v", errGone, err)
	}
	if err != nil {
		return nil, err
	}
	return fileKnob(key, p), nil
}

// checkStored refuses a stored value no knob holds: long, or with line
// breaks or control characters.
func checkStored(v string) error {
	if len(v) > 256 {
		return fmt.Errorf("%d bytes, longer than any knob's value", len(v))
	}
	for _, r := range v {
		if r < ' ' && r != '\t' || r == 0x7f {
			return fmt.Errorf("control character %q in %q", r, v)
		}
	}
	return nil
}
