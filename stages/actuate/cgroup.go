package actuate

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ainka/ainka/stages/decide/action"
)

// ErrNoCgroup2 means the host has no cgroup v2 mount.
var ErrNoCgroup2 = errors.New("no cgroup2 filesystem mounted")

// FindCgroup2 returns the mount point of the cgroup v2 hierarchy from a
// mountinfo file (/proc/self/mountinfo). Hosts differ: /sys/fs/cgroup on
// unified systems, /sys/fs/cgroup/unified on hybrid ones.
func FindCgroup2(mountinfo string) (string, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return "", fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
		fields := strings.Fields(sc.Text())
		for i, fl := range fields {
			if fl == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return unescapeMount(fields[4]), nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read mountinfo: %w", err)
	}
	return "", ErrNoCgroup2
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroupPath resolves file of cgroup rel: the v2 file, or for cpu.weight
// on a hybrid host (the cpu controller bound to v1) v1's cpu.shares
// (shares). Resolving walks and checks every component, a dozen system
// calls on a contended kernfs, hundreds of microseconds on a busy host:
// the result is kept, because cgroupfs has no symbolic links, so a path
// once resolved inside the root stays inside it; a cgroup removed since
// fails the knob's read (then forgetCgroups), one made again under the
// same name has the same path.
func (s *Stage) cgroupPath(rel, file string) (p string, shares bool, err error) {
	ck := rel + "\x00" + file
	if c, ok := s.cgPaths[ck]; ok {
		return c.path, c.shares, nil
	}
	p, err = cgroupFile(s.cfg.CgroupRoot, rel, file)
	if err != nil && file == "cpu.weight" && s.cfg.Cgroup1CPU != "" && !v2Has(s.cfg.CgroupRoot, "cpu") {
		if p1, err1 := cgroupFile(s.cfg.Cgroup1CPU, rel, "cpu.shares"); err1 == nil {
			p, shares, err = p1, true, nil
		}
	}
	if err != nil {
		return "", false, err
	}
	if len(s.cgPaths) >= maxCgPaths {
		clear(s.cgPaths)
	}
	s.cgPaths[ck] = cgPath{p, shares}
	return p, shares, nil
}

// cgPath is a resolved cgroup file (Stage.cgroupPath).
type cgPath struct {
	path   string
	shares bool
}

// maxCgPaths bounds the resolved cgroup files kept: more cgroups than
// this are resolved again.
const maxCgPaths = 1024

// forgetCgroups drops the resolved cgroup files after a knob could not be
// read: its cgroup may be gone.
func (s *Stage) forgetCgroups() { clear(s.cgPaths) }

// cgroupFile returns the path of file in cgroup rel under root, refusing
// anything that resolves outside root (a symlinked directory, "..").
func cgroupFile(root, rel, file string) (string, error) {
	c, err := action.CleanCgroup(rel)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, c)
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("cgroup %q: %w", c, err)
	}
	rroot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("cgroup root %q: %w", root, err)
	}
	if real != rroot && !strings.HasPrefix(real, rroot+"/") {
		return "", fmt.Errorf("cgroup %q resolves to %s, outside the cgroup root %s", c, real, rroot)
	}
	p := filepath.Join(real, file)
	if _, err := os.Stat(p); err != nil {
		ctrl, _, _ := strings.Cut(file, ".")
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("cgroup %q has no %s: the %s controller is not enabled in %s/cgroup.subtree_control (available: %s)",
				c, file, ctrl, filepath.Dir(real), readTrim(filepath.Join(filepath.Dir(real), "cgroup.controllers")))
		}
		return "", fmt.Errorf("cgroup %q: %w", c, err)
	}
	return p, nil
}

func readTrim(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "?"
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "none"
	}
	return s
}

// FindCgroup1CPU returns the mount point of a cgroup v1 hierarchy that
// holds the cpu controller, or "" when there is none.
func FindCgroup1CPU(mountinfo string) string { return FindCgroup1(mountinfo, "cpu") }

// FindCgroup1 returns the mount point of a cgroup v1 hierarchy that holds
// controller ctrl, or "" when there is none.
func FindCgroup1(mountinfo, ctrl string) string {
	f, err := os.Open(mountinfo)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, fl := range fields {
			if fl == "-" && i+3 < len(fields) && fields[i+1] == "cgroup" && len(fields) > 4 {
				for _, o := range strings.Split(fields[i+3], ",") {
					if o == ctrl {
						return unescapeMount(fields[4])
					}
				}
			}
		}
	}
	return ""
}

// v2Has reports whether controller ctrl is available in the cgroup v2
// hierarchy at all (listed in the root's cgroup.controllers).
func v2Has(root, ctrl string) bool {
	for _, c := range strings.Fields(readTrim(filepath.Join(root, "cgroup.controllers"))) {
		if c == ctrl {
			return true
		}
	}
	return false
}
